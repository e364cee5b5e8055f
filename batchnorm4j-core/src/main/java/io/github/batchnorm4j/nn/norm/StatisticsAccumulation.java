package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.nn.Module;
import java.util.Map;

/**
 * Gradient accumulation with correct running statistics: between {@link #begin} and {@link #commit} every
 * BatchNorm and BatchRenorm layer of a model merges the (count, mean, M2) of the micro-batches it normalises
 * (count-weighted, exactly) instead of updating its running statistics, and the commit makes one update with the
 * merged statistics, so the running estimates follow the statistics of the whole accumulated batch, one update
 * (and one {@code num_batches_tracked} increment) per optimizer step. Each micro-batch is still normalised with
 * its own statistics in the forward pass. GhostBatchNorm keeps its update per virtual batch, which is the big
 * batch's when the micro-batch is a whole number of virtual batches ({@link #check}).
 */
public final class StatisticsAccumulation {
    private StatisticsAccumulation() {}

    /**
     * Refuses, naming the layer, what cannot accumulate exactly over micro-batches of {@code microBatch}
     * samples: a GhostBatchNorm whose virtual batches would not be those of the accumulated batch, and an
     * InstanceNorm with running statistics (averaged per instance, not merged).
     */
    public static void check(Module model, int microBatch) {
        check(model, "", microBatch);
    }

    private static void check(Module m, String name, int microBatch) {
        if (m instanceof GhostBatchNorm g && microBatch % g.ghostBatchSize() != 0) {
            throw new IllegalArgumentException("Expected a batch size that is a multiple of the ghost batch size with"
                    + " gradient accumulation (the micro-batches' virtual batches must be the accumulated batch's),"
                    + " got batch " + microBatch + " and ghost batch size " + g.ghostBatchSize() + " in '" + name
                    + "'");
        }
        if (m instanceof InstanceNorm in && in.options().trackRunningStats()) {
            throw new IllegalArgumentException("Expected no InstanceNorm with track_running_stats=true with gradient"
                    + " accumulation (its running statistics average instances, they are not merged), got '" + name
                    + "'");
        }
        for (Map.Entry<String, Module> e : m.children().entrySet()) {
            check(e.getValue(), name.isEmpty() ? e.getKey() : name + "." + e.getKey(), microBatch);
        }
    }

    /** From now on the BatchNorm layers of {@code model} merge their training statistics instead of updating. */
    public static void begin(Module model) {
        if (model instanceof BatchNorm bn && !(bn instanceof GhostBatchNorm) && bn.runningStats() != null) {
            bn.runningStats().beginAccumulation();
        }
        for (Module child : model.children().values()) {
            begin(child);
        }
    }

    /** One running update per layer with the merged statistics since {@link #begin}. */
    public static void commit(Module model) {
        if (model instanceof BatchNorm bn && bn.runningStats() != null && bn.runningStats().accumulating()) {
            bn.runningStats().commitAccumulation(bn.options().eps());
        }
        for (Module child : model.children().values()) {
            commit(child);
        }
    }
}
