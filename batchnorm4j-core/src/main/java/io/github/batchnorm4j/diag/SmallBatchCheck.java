package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Warns when a BatchNorm normalises a channel over fewer than {@value #MIN_VALUES} values in training (batch
 * size times spatial size; a GhostBatchNorm's virtual batch for a ghost layer). With so few values the batch
 * mean and variance are noise, and training diverges or evaluation disagrees with training. BatchRenorm is not
 * reported: it is the remedy. The input shapes are read by probes during each training step.
 */
public final class SmallBatchCheck implements TrainerCallback {
    /** Below this many values per channel the batch statistics are considered noise. */
    public static final int MIN_VALUES = 16;

    private final WarningSink sink;
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final Map<String, Module> layers = new LinkedHashMap<>();
    private Probes.Installation probes;

    public SmallBatchCheck(WarningSink sink) {
        this.sink = sink;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        shapes.clear();
        probes = Probes.install(model, (name, m) -> m instanceof BatchNorm && !(m instanceof BatchRenorm)
                && !sink.warned(key(name)), new Probe.Listener() {
                    @Override
                    public void onForward(String name, Module layer, Tensor in, Tensor out) {
                        if (layer.isTraining()) {
                            shapes.put(name, in.shape());
                            layers.put(name, layer);
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
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            int[] s = e.getValue();
            int n = s[0];
            long spatial = 1;
            for (int i = 2; i < s.length; i++) {
                spatial *= s[i];
            }
            Module layer = layers.get(e.getKey());
            int batch = layer instanceof GhostBatchNorm g ? Math.min(n, g.ghostBatchSize()) : n;
            long values = batch * spatial;
            if (values < MIN_VALUES) {
                sink.warn(key(e.getKey()), message(e.getKey(), layer, batch, spatial));
            }
        }
    }

    static String key(String name) {
        return "small-batch:" + name;
    }

    static String message(String name, Module layer, int batch, long spatial) {
        String what = layer instanceof GhostBatchNorm ? "virtual batch " : "batch ";
        return "[bn4j] " + layer.getClass().getSimpleName() + " '" + name + "' normalises each channel over only "
                + batch * spatial + " values in training (" + what + batch + " x spatial " + spatial + ", fewer than "
                + MIN_VALUES + "): its batch mean and variance are noise, so training can diverge and evaluation"
                + " disagree with training. Remedy: use GroupNorm or LayerNorm, which do not depend on the batch"
                + " (--norm gn|ln), BatchRenorm (--norm brn), a larger batch, or freeze the statistics when"
                + " fine-tuning (--freeze-bn).";
    }
}
