package io.github.batchnorm4j.optim;

import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Adam (Kingma &amp; Ba, 2015) and, with {@code decoupled}, AdamW (Loshchilov &amp; Hutter, 2019), as PyTorch
 * computes them. At step {@code t} with gradient {@code g}:
 * Adam adds L2 decay {@code g += wd·p}; AdamW instead scales {@code p *= 1 - lr·wd}. Then
 * {@code m = β1·m + (1-β1)·g}, {@code v = β2·v + (1-β2)·g²} and
 * {@code p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps)}.
 * State slots: {@code <param>.exp_avg}, {@code <param>.exp_avg_sq}.
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final boolean decoupled;
    private final Map<String, Tensor> expAvg = new LinkedHashMap<>();
    private final Map<String, Tensor> expAvgSq = new LinkedHashMap<>();

    public Adam(Map<String, Parameter> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0, Set.of(), false);
    }

    public Adam(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                Set<String> noDecay, boolean decoupled) {
        super(params, lr, weightDecay, noDecay);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Expected betas in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("Expected eps >= 0, got " + eps);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.decoupled = decoupled;
    }

    /** AdamW with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8) and the given decoupled weight decay. */
    public static Adam adamW(Map<String, Parameter> params, double lr, double weightDecay, Set<String> noDecay) {
        return new Adam(params, lr, 0.9, 0.999, 1e-8, weightDecay, noDecay, true);
    }

    @Override
    protected void update(String name, Parameter p, double weightDecay, long t) {
        float[] w = p.data();
        float[] g = p.grad().data();
        float[] m = expAvg.computeIfAbsent(name, k -> p.value().zerosLike()).data();
        float[] v = expAvgSq.computeIfAbsent(name, k -> p.value().zerosLike()).data();
        double lr = lr();
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, t)));
        float sqrtBc2 = (float) Math.sqrt(1 - Math.pow(beta2, t));
        float l2 = decoupled ? 0f : (float) weightDecay;
        float shrink = decoupled ? (float) (1 - lr * weightDecay) : 1f;
        float e = (float) eps;
        for (int i = 0; i < w.length; i++) {
            float wi = w[i] * shrink;
            float gi = g[i] + l2 * w[i];
            float mi = b1 * m[i] + (1 - b1) * gi;
            float vi = b2 * v[i] + (1 - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            w[i] = wi - stepSize * (mi / ((float) Math.sqrt(vi) / sqrtBc2 + e));
        }
    }

    @Override
    public String kind() {
        return decoupled ? "adamw" : "adam";
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String k : expAvg.keySet()) {
            out.put(k + ".exp_avg", expAvg.get(k));
            out.put(k + ".exp_avg_sq", expAvgSq.get(k));
        }
        return view(out);
    }

    @Override
    protected Map<String, Tensor> slotsFor(boolean allocate) {
        if (!allocate) {
            expAvg.clear();
            expAvgSq.clear();
            return Map.of();
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            expAvg.computeIfAbsent(e.getKey(), k -> e.getValue().value().zerosLike());
            expAvgSq.computeIfAbsent(e.getKey(), k -> e.getValue().value().zerosLike());
        }
        return state();
    }
}
