package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Warns when a BatchNorm computes its training statistics from fewer than {@value #MIN_SAMPLES} samples, or from
 * fewer than {@value #MIN_VALUES} values per channel (for features without spatial size, 16 samples). What counts
 * first is the samples, not the values:
 * a conv layer at batch 2 normalises each channel over 2·H·W values, but those come from two images and are
 * strongly correlated, so its mean and variance are as noisy as two samples make them. The samples feeding a
 * statistic are the batch ({@code N} of an {@code (N, C, ...)} input) for BatchNorm, the virtual batch for
 * GhostBatchNorm, the global batch (local batch × ranks) for a synchronized BatchNorm, and the per-rank batch for
 * an unsynchronized one in data-parallel training ({@code ranks > 1}). BatchRenorm is not reported: it is a
 * remedy. The input shapes are read by probes during each training step; one warning lists every affected layer
 * of the first step that has any, once per run.
 */
public final class SmallBatchCheck implements TrainerCallback {
    /** Below this many samples per statistic the batch statistics are considered noise. */
    public static final int MIN_SAMPLES = 8;
    /** Below this many values per channel the batch statistics are considered noise. */
    public static final int MIN_VALUES = 16;
    static final String KEY = "small-batch";

    private final WarningSink sink;
    private final int ranks;
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private final Map<String, Module> layers = new LinkedHashMap<>();
    private Probes.Installation probes;

    public SmallBatchCheck(WarningSink sink) {
        this(sink, 1);
    }

    /** For one rank of {@code ranks} in data-parallel training (1: a single process). */
    public SmallBatchCheck(WarningSink sink, int ranks) {
        this.sink = sink;
        this.ranks = Math.max(1, ranks);
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        shapes.clear();
        if (sink.warned(KEY)) {
            return;
        }
        probes = Probes.install(model, (name, m) -> m instanceof BatchNorm && !(m instanceof BatchRenorm),
                new Probe.Listener() {
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
        List<String> small = new ArrayList<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            String d = describe(e.getKey(), layers.get(e.getKey()), e.getValue());
            if (d != null) {
                small.add(d);
            }
        }
        if (!small.isEmpty()) {
            sink.warn(KEY, message(small));
        }
    }

    /** The layer's sample and value counts when too small, else null. */
    private String describe(String name, Module layer, int[] s) {
        int n = s[0];
        long spatial = 1;
        for (int i = 2; i < s.length; i++) {
            spatial *= s[i];
        }
        boolean synced = layer instanceof BatchNorm bn && bn.communicator() != null;
        String what;
        long samples;
        if (layer instanceof GhostBatchNorm g) {
            samples = Math.min(n, g.ghostBatchSize());
            what = "virtual batch " + samples;
        } else if (synced) {
            samples = (long) n * bn(layer).communicator().size();
            what = "global batch " + samples + " over " + bn(layer).communicator().size() + " ranks";
        } else {
            samples = n;
            what = ranks > 1 ? "batch " + n + " per rank, not synchronized" : "batch " + n;
        }
        long values = samples * spatial;
        if (samples >= MIN_SAMPLES && values >= MIN_VALUES) {
            return null;
        }
        String counts = spatial == 1 ? samples + (samples == 1 ? " sample" : " samples") + " (" + what + ")"
                : samples + " samples (" + what + " x spatial " + spatial + " = " + values + " values per channel)";
        return layer.getClass().getSimpleName() + " '" + name + "' from " + counts;
    }

    private static BatchNorm bn(Module m) {
        return (BatchNorm) m;
    }

    static String message(List<String> layers) {
        return "[bn4j] Small-batch statistics: " + String.join("; ", layers) + ". With fewer than " + MIN_SAMPLES
                + " samples (or " + MIN_VALUES + " values) per statistic the batch mean and variance are noise (the"
                + " values of one sample are correlated, so a large spatial size does not make up for few samples):"
                + " training can diverge and evaluation disagree with training. Remedies: GroupNorm or LayerNorm,"
                + " which do not depend on the batch (--norm gn|ln); BatchRenorm (--norm brn); a larger batch, or"
                + " SyncBatchNorm over several processes (--distributed); FrozenBatchNorm when fine-tuning a trained"
                + " model (--freeze-bn).";
    }
}
