package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;

/**
 * Warns, once per layer, when a channel of a BatchNorm's training input is constant over the batch (zero
 * variance): {@code x - mean} is 0, the output is the constant beta, and the input gradient of the channel is
 * scaled by {@code 1/sqrt(eps)} (316 for eps = 1e-5). Checked at step 0 and every {@code every} steps, because
 * it costs a pass over the layer's input.
 */
public final class ZeroVarianceCheck implements TrainerCallback {
    private final WarningSink sink;
    private final long every;
    private Probes.Installation probes;
    private long step;

    public ZeroVarianceCheck(WarningSink sink) {
        this(sink, 100);
    }

    public ZeroVarianceCheck(WarningSink sink, long every) {
        if (every <= 0) {
            throw new IllegalArgumentException("Expected every > 0, got every=" + every);
        }
        this.sink = sink;
        this.every = every;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        if (step % every != 0) {
            return;
        }
        this.step = step;
        probes = Probes.install(model, (name, m) -> m instanceof BatchNorm && !sink.warned(key(name)),
                new Probe.Listener() {
                    @Override
                    public void onForward(String name, Module layer, Tensor in, Tensor out) {
                        if (layer.isTraining()) {
                            check(name, (BatchNorm) layer, in);
                        }
                    }
                });
    }

    @Override
    public void afterTrainStep(Module model, long step, double loss) {
        if (probes != null) {
            probes.remove();
            probes = null;
        }
    }

    private void check(String name, BatchNorm layer, Tensor x) {
        int n = x.dim(0), c = x.dim(1), s = x.spatialSize();
        float[] d = x.data();
        boolean last = x.format() == MemoryFormat.CHANNELS_LAST || x.rank() == 2;
        for (int ch = 0; ch < c; ch++) {
            float first = d[last ? ch : ch * s];
            boolean constant = n * s > 1;
            for (int i = 0; i < n && constant; i++) {
                for (int j = 0; j < s; j++) {
                    float v = d[last ? (i * s + j) * c + ch : (i * c + ch) * s + j];
                    if (v != first) {
                        constant = false;
                        break;
                    }
                }
            }
            if (constant) {
                sink.warn(key(name), message(name, layer, ch, n * s, first, step, layer.options().eps()));
                return;
            }
        }
    }

    static String key(String name) {
        return "zero-variance:" + name;
    }

    static String message(String name, Module layer, int channel, long values, float value, long step, double eps) {
        return "[bn4j] " + layer.getClass().getSimpleName() + " '" + name + "' channel " + channel + " has zero"
                + " variance in the training batch at step " + step + " (all " + values + " values equal " + value
                + "): its output is the constant beta and its input gradient is scaled by 1/sqrt(eps) = "
                + String.format(java.util.Locale.ROOT, "%.1f", 1 / Math.sqrt(eps)) + ". Remedy: look for a dead"
                + " unit before it (a ReLU that never fires: lower the learning rate, check the initialisation), a"
                + " constant input feature, or remove the channel.";
    }
}
