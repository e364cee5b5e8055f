package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.Map;

/**
 * Warns, once per layer at the first training step, about a BatchNorm momentum outside the usual range
 * [{@value #LOW}, {@value #HIGH}]. Momentum here is PyTorch's: the weight of the <em>new</em> batch,
 * {@code running = (1 - m) * running + m * batch}, so the running statistics average over about {@code 1/m}
 * batches. Above the range they follow the last batch or two (noise, and often a Keras/TensorFlow momentum
 * such as 0.99 meaning 0.01 here); below it they remember statistics of weights long gone (stale); at 0 they
 * never change. A null momentum (cumulative average) is not reported.
 */
public final class MomentumCheck implements TrainerCallback {
    public static final double LOW = 0.001;
    public static final double HIGH = 0.5;

    private final WarningSink sink;
    private boolean checked;

    public MomentumCheck(WarningSink sink) {
        this.sink = sink;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        if (!checked) {
            checked = true;
            check(model);
        }
    }

    public void check(Module model) {
        for (Map.Entry<String, Module> e : Probes.named(model).entrySet()) {
            if (e.getValue() instanceof BatchNorm bn && bn.options().trackRunningStats()) {
                Double m = bn.options().momentum();
                if (m != null && (m < LOW || m > HIGH)) {
                    sink.warn("momentum:" + e.getKey(), message(e.getKey(), bn, m));
                }
            }
        }
    }

    static String message(String name, Module layer, double m) {
        String head = "[bn4j] " + layer.getClass().getSimpleName() + " '" + name + "' has momentum " + m
                + ", outside the usual range " + LOW + " to " + HIGH + ". Here momentum is the weight of the NEW"
                + " batch: running = (1 - momentum) * running + momentum * batch";
        String usual = " (default 0.1)";
        if (m == 0) {
            return head + "; with 0 the running statistics never change and evaluation normalises with their"
                    + " initial values (mean 0, variance 1). Remedy: use momentum 0.1, or null for a cumulative"
                    + " average.";
        }
        if (m > HIGH) {
            return head + ", so the running statistics follow only the last ~" + Math.max(1, Math.round(1 / m))
                    + " batch(es) and evaluation sees noise. Keras/TensorFlow state it the other way round: their"
                    + " momentum " + m + " is " + Math.round((1 - m) * 1e6) / 1e6 + " here. Remedy: use a momentum"
                    + " between " + LOW + " and " + HIGH + usual + ".";
        }
        return head + ", so the running statistics average over ~" + Math.round(1 / m) + " batches and remember"
                + " statistics of weights long since updated (stale), so evaluation normalises with outdated values."
                + " Remedy: use a momentum between " + LOW + " and " + HIGH + usual
                + ", or re-estimate the statistics after training.";
    }
}
