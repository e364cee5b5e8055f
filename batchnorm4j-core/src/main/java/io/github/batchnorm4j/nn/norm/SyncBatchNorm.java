package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.nn.Module;
import java.util.Objects;

/**
 * Batch Normalization whose training statistics are those of the <em>global</em> batch: the concatenation of the
 * batches of all ranks of a {@link Communicator} group (PyTorch's {@code SyncBatchNorm}): BatchNorm with the
 * pipeline's combine phase ({@link io.github.batchnorm4j.dist.GroupStatistics}). Per step it costs one
 * all-gather of {@code 1 + 2C} doubles in forward and one all-reduce of {@code 2C} doubles in backward. The result
 * equals {@link BatchNorm} on the concatenated batch (up to rounding), also with uneven per-rank batches and with ranks
 * that have no rows.
 *
 * <p>In eval mode it is exactly {@link BatchNorm} (running statistics, no communication), and so it is in training
 * over a group of one process (one fused pass, no communication). The state keys are
 * BatchNorm's, so checkpoints are interchangeable. The gamma/beta gradients are this rank's share; the
 * data-parallel gradient all-reduce sums them over the ranks.
 */
public class SyncBatchNorm extends BatchNorm {

    public SyncBatchNorm(int numFeatures, Communicator communicator) {
        this(numFeatures, NormOptions.BATCH_NORM, communicator);
    }

    public SyncBatchNorm(int numFeatures, NormOptions options, Communicator communicator) {
        super(numFeatures, options);
        synchronize(Objects.requireNonNull(communicator, "communicator"));
    }

    /**
     * Makes every {@link BatchNorm} in {@code model} (including {@code model} itself) synchronize its training
     * statistics over {@code communicator}. Java containers hold their layers in fields, so the layers are
     * switched in place rather than replaced: parameters, buffers and state keys are untouched. Returns
     * {@code model}.
     */
    public static <M extends Module> M convert(M model, Communicator communicator) {
        Objects.requireNonNull(communicator, "communicator");
        refuseUnsynchronizable(model, "");
        visit(model, communicator);
        return model;
    }

    /**
     * Every BatchNorm variant (BatchNorm, BatchRenorm, GhostBatchNorm) synchronizes exactly; GroupNorm, LayerNorm,
     * FrozenBatchNorm and InstanceNorm without running statistics need nothing (per-sample or fixed statistics).
     * InstanceNorm's running statistics average the batch's instances, which the pipeline does not combine across
     * ranks: refused before anything changes, rather than trained differently on each rank.
     */
    private static void refuseUnsynchronizable(Module m, String name) {
        if (m instanceof InstanceNorm in && in.options().trackRunningStats()) {
            throw new IllegalArgumentException("Expected layers whose training statistics can be synchronized, got '"
                    + name + "' (InstanceNorm with track_running_stats=true: its running statistics would average"
                    + " only this rank's instances); use track_running_stats=false or no synchronization");
        }
        for (var e : m.children().entrySet()) {
            refuseUnsynchronizable(e.getValue(), name.isEmpty() ? e.getKey() : name + "." + e.getKey());
        }
    }

    /** Number of BatchNorm layers in {@code model} that synchronize their statistics. */
    public static int countSynchronized(Module model) {
        int n = model instanceof BatchNorm bn && bn.communicator() != null ? 1 : 0;
        for (Module child : model.children().values()) {
            n += countSynchronized(child);
        }
        return n;
    }

    private static void visit(Module m, Communicator communicator) {
        if (m instanceof BatchNorm bn) {
            bn.synchronize(communicator);
        }
        for (Module child : m.children().values()) {
            visit(child, communicator);
        }
    }
}
