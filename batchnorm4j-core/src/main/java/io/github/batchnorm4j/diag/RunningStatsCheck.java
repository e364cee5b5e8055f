package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.Map;

/**
 * Warns, once per layer, when a running variance is NaN, infinite or negative (or a running mean is not
 * finite), checked after every training step and before every evaluation: evaluation would then output NaN or
 * garbage while training still looks fine.
 */
public final class RunningStatsCheck implements TrainerCallback {
    private final WarningSink sink;

    public RunningStatsCheck(WarningSink sink) {
        this.sink = sink;
    }

    @Override
    public void afterTrainStep(Module model, long step, double loss) {
        check(model, step);
    }

    @Override
    public void beforeEvaluate(Module model, long step) {
        check(model, step);
    }

    /** Checks every BatchNorm and FrozenBatchNorm under {@code model} now. */
    public void check(Module model, long step) {
        for (Map.Entry<String, Module> e : Probes.named(model).entrySet()) {
            Module m = e.getValue();
            Tensor mean = null, var = null;
            if (m instanceof BatchNorm bn) {
                mean = bn.runningMean();
                var = bn.runningVar();
            } else if (m instanceof FrozenBatchNorm f) {
                mean = f.runningMean();
                var = f.runningVar();
            }
            if (var == null) {
                continue;
            }
            float[] v = var.data();
            float[] mu = mean.data();
            for (int c = 0; c < v.length; c++) {
                String bad = !Float.isFinite(v[c]) || v[c] < 0 ? "running_var[" + c + "] = " + v[c]
                        : !Float.isFinite(mu[c]) ? "running_mean[" + c + "] = " + mu[c] : null;
                if (bad != null) {
                    sink.warn("running-stats:" + e.getKey(), message(e.getKey(), m, bad, step));
                    break;
                }
            }
        }
    }

    static String message(String name, Module layer, String bad, long step) {
        return "[bn4j] " + layer.getClass().getSimpleName() + " '" + name + "' has invalid running statistics at"
                + " step " + step + " (" + bad + "): evaluation will output NaN or garbage. Remedy: a diverged step"
                + " (lower the learning rate, clip gradients) or NaN/Inf in the input are the usual causes; reload"
                + " the last good checkpoint, or reset the statistics (running_mean = 0, running_var = 1) and"
                + " re-estimate them with a few training-mode passes.";
    }
}
