package io.github.batchnorm4j.optim;

import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Stochastic gradient descent with PyTorch's semantics. With {@code g = grad + wd·p}:
 * without momentum {@code p -= lr·g}; with momentum {@code μ} the buffer is {@code b = g} on the first step and
 * {@code b = μ·b + (1 - dampening)·g} afterwards, and {@code p -= lr·b}, or {@code p -= lr·(g + μ·b)} with
 * Nesterov momentum. State slot: {@code <param>.momentum_buffer}.
 */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();

    public Sgd(Map<String, Parameter> params, double lr) {
        this(params, lr, 0, 0, false, 0, Set.of());
    }

    public Sgd(Map<String, Parameter> params, double lr, double momentum, double dampening, boolean nesterov,
               double weightDecay, Set<String> noDecay) {
        super(params, lr, weightDecay, noDecay);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("Expected momentum in [0, 1), got " + momentum);
        }
        if (!(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("Expected dampening in [0, 1], got " + dampening);
        }
        if (nesterov && (momentum == 0 || dampening != 0)) {
            throw new IllegalArgumentException("Expected momentum > 0 and dampening 0 for Nesterov momentum, got "
                    + "momentum " + momentum + " and dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
    }

    @Override
    protected void update(String name, Parameter p, double weightDecay, long t) {
        float[] w = p.data();
        float[] g = p.grad().data();
        float lr = (float) lr();
        float wd = (float) weightDecay;
        if (momentum == 0) {
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr * (g[i] + wd * w[i]);
            }
            return;
        }
        float mu = (float) momentum;
        float damp = (float) (1 - dampening);
        Tensor bt = buffers.get(name);
        boolean first = bt == null;
        if (first) {
            bt = p.value().zerosLike();
            buffers.put(name, bt);
        }
        float[] b = bt.data();
        for (int i = 0; i < w.length; i++) {
            float d = g[i] + wd * w[i];
            float bi = first ? d : mu * b[i] + damp * d;
            b[i] = bi;
            w[i] -= lr * (nesterov ? d + mu * bi : bi);
        }
    }

    @Override
    public String kind() {
        return "sgd";
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        buffers.forEach((k, v) -> out.put(k + ".momentum_buffer", v));
        return view(out);
    }

    @Override
    protected Map<String, Tensor> slotsFor(boolean allocate) {
        if (!allocate || momentum == 0) {
            buffers.clear();
            return Map.of();
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            buffers.computeIfAbsent(e.getKey(), k -> e.getValue().value().zerosLike());
        }
        return state();
    }
}
