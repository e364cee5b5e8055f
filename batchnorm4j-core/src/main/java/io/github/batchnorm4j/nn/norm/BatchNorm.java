package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.GroupStatistics;
import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.functional.RunningStats;
import io.github.batchnorm4j.functional.StatsCombine;
import io.github.batchnorm4j.functional.StatsTransform;
import io.github.batchnorm4j.nn.ReluFusion;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.function.Consumer;

/**
 * Batch Normalization (Ioffe &amp; Szegedy, 2015) over {@code (N,C)}, {@code (N,C,L)}, {@code (N,C,H,W)} or
 * {@code (N,C,D,H,W)} input, NCHW or channels-last.
 *
 * <p>Per channel {@code c}, over the {@code N·L} (or {@code N·H·W}, {@code N·D·H·W}) values of the batch:
 * {@code y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c}, where {@code var_c} is the biased variance.
 *
 * <p><b>Training:</b> normalises with the batch statistics; with {@code trackRunningStats} also updates
 * {@code running = (1 - m) * running + m * batch}, using the <em>unbiased</em> batch variance for
 * {@code running_var}, and increments {@code num_batches_tracked}; {@code m} is the momentum, or
 * {@code 1 / num_batches_tracked} when the momentum is null (cumulative average).
 * <b>Eval:</b> normalises with the running statistics ({@code running_mean} init 0, {@code running_var} init 1).
 * See {@link #useBatchStatistics} for the exact rule. The state keys are PyTorch's: {@code weight}, {@code bias},
 * {@code running_mean}, {@code running_var}, {@code num_batches_tracked}.
 */
public class BatchNorm extends NormLayer implements ReluFusion {
    /**
     * Whether a class fuses the ReLU epilogue: only when the class that defines {@code forward} also defines
     * {@code forwardRelu} (and {@code backward} is the norm layers' own or that class's), so that a subclass that changes the
     * forward (Batch Renormalization, Ghost BatchNorm, a user's subclass) is never bypassed by the fused pass.
     */
    private static final ClassValue<Boolean> FUSES = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> c) {
            try {
                Class<?> f = c.getMethod("forward", Tensor.class).getDeclaringClass();
                Class<?> r = c.getMethod("forwardRelu", Tensor.class, Tensor.class).getDeclaringClass();
                Class<?> b = c.getMethod("backward", Tensor.class).getDeclaringClass();
                return f == r && (b == r || b == NormLayer.class);
            } catch (NoSuchMethodException e) {
                return false;
            }
        }
    };

    private final int numFeatures;
    private final NormOptions options;
    /** The running buffers and their update rule; null without running statistics. */
    private final RunningStats runningStats;
    /** Non-null when training statistics are combined over a group ({@link SyncBatchNorm}). */
    private GroupStatistics group;
    /**
     * What the training forward combines with: the group, or null for this process's batch only (also for a group
     * of one process, which combines nothing). Kept in a field, as is {@link #classFuses}, so that the forward's
     * compiled code stays small enough for the JIT to inline the vector kernels under it (else it boxes vectors).
     */
    private GroupStatistics combine;
    private final boolean classFuses = FUSES.get(getClass());
    private Consumer<Tensor> inputObserver;

    public BatchNorm(int numFeatures) {
        this(numFeatures, NormOptions.BATCH_NORM);
    }

    public BatchNorm(int numFeatures, NormOptions options) {
        this(numFeatures, options, RunningStats.VarianceRule.VARIANCE);
    }

    /** With the running-variance rule {@code rule} (Batch Renormalization's running sigma is one). */
    BatchNorm(int numFeatures, NormOptions options, RunningStats.VarianceRule rule) {
        super(new int[] {checkFeatures(numFeatures)}, options.affine());
        this.numFeatures = numFeatures;
        this.options = options;
        runningStats = options.trackRunningStats()
                ? registerRunningStats(numFeatures, options.momentum(), rule) : null;
    }

    /**
     * The single place that decides which statistics normalise (PyTorch's {@code bn_training}): batch statistics
     * in training mode, and also in eval mode when no running statistics are tracked (there is nothing else).
     */
    static boolean useBatchStatistics(boolean training, boolean trackRunningStats) {
        return training || !trackRunningStats;
    }

    /**
     * The pipeline's choices: batch statistics per {@link #useBatchStatistics}, updating the running statistics
     * in training; the statistics combined over the group in training when synchronized; {@link #transform} (none
     * for BatchNorm).
     */
    @Override
    public Tensor forward(Tensor x) {
        boolean batchStats = prepare(x);
        return remember(x, Functional.batchNorm(x, weightValue(), biasValue(), runningStats, batchStats,
                options.eps(), isTraining() ? combine : null, batchStats ? transform() : null, null, false,
                workspace()));
    }

    /**
     * True for BatchNorm (and subclasses that define forward and forwardRelu together) while its statistics are
     * its own batch's; false for Batch Renormalization and Ghost BatchNorm, whose forwards are their own, and while
     * synchronized over more than one process ({@link SyncBatchNorm}): its backward sums the reductions over the group between two passes, so
     * the ReLU gate would be a pass of its own anyway, and the containers compose the layers instead.
     */
    @Override
    public boolean fusesRelu() {
        return combine == null && classFuses;
    }

    /**
     * {@code relu(bn(x) [+ residual])} in the normalize pass (training: with the batch statistics and the running
     * update, exactly as {@link #forward}); see {@link ReluFusion}.
     *
     * @throws UnsupportedOperationException when {@link #fusesRelu} is false
     */
    @Override
    public Tensor forwardRelu(Tensor x, Tensor residual) {
        if (!fusesRelu()) {
            throw new UnsupportedOperationException(getClass().getSimpleName() + " does not fuse the ReLU epilogue"
                    + " (fusesRelu() is false): run forward, the add and ReLU instead");
        }
        boolean batchStats = prepare(x);
        // The functional call is made here, not in a shared helper, to keep the vector kernels within the JIT's
        // inlining depth (deeper, their vectors are boxed).
        return remember(x, Functional.batchNorm(x, weightValue(), biasValue(), runningStats, batchStats,
                options.eps(), null, batchStats ? transform() : null, residual, true, workspace()), true,
                residual != null); // no combine: a layer that fuses has none
    }

    /** Validates {@code x}, shows it to the input observer; returns whether batch statistics normalise. */
    private boolean prepare(Tensor x) {
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures);
        if (inputObserver != null) {
            inputObserver.accept(x);
        }
        return useBatchStatistics(isTraining(), options.trackRunningStats());
    }

    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        Functional.checkRank(x, 2, 5, "[N, C, ...]");
        checkChannels(x, numFeatures);
        boolean batchStats = useBatchStatistics(isTraining(), options.trackRunningStats());
        return remember(x, Functional.batchNorm(x, mask, weightValue(), biasValue(), runningStats, batchStats,
                options.eps(), isTraining() ? combine : null, workspace()));
    }

    /** The statistics transform of a training forward (Batch Renormalization's r/d); null for BatchNorm. */
    StatsTransform transform() {
        return null;
    }

    /** The group whose global batch gives the training statistics, or null for this process's batch only. */
    public Communicator communicator() {
        return group == null ? null : group.communicator();
    }

    /**
     * The combine of the training statistics, or null (this process's batch only). A group of one process
     * combines nothing, so it takes the single-process path (one fused pass, no communication).
     */
    StatsCombine combine() {
        return combine;
    }

    /** Synchronizes training statistics over {@code c} (null: back to local statistics). */
    void synchronize(Communicator c) {
        group = c == null ? null : new GroupStatistics(c);
        combine = c == null || c.size() == 1 ? null : group;
    }

    /** The running statistics (buffers, momentum rule, count), or null without them. */
    public RunningStats runningStats() {
        return runningStats;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public NormOptions options() {
        return options;
    }

    /** Running mean {@code [C]}, or null without running statistics. */
    public Tensor runningMean() {
        return runningStats == null ? null : runningStats.mean();
    }

    /** Running unbiased variance {@code [C]}, or null without running statistics. */
    public Tensor runningVar() {
        return runningStats == null ? null : runningStats.var();
    }

    /** Number of training batches seen, or -1 without running statistics. */
    public long numBatchesTracked() {
        return runningStats == null ? -1 : runningStats.numBatchesTracked();
    }

    public void setNumBatchesTracked(long n) {
        if (runningStats != null) {
            runningStats.setNumBatchesTracked(n);
        }
    }

    static int checkFeatures(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("Expected num_features > 0, got num_features=" + n);
        }
        return n;
    }

    /**
     * Sets a callback that sees every (validated) input before it is normalised, or clears it with null. Used to
     * recalibrate the running statistics from exact population statistics ({@code infer.PreciseBN}); the
     * callback must not modify the tensor. It may throw to abandon the forward pass, which then changes nothing.
     */
    public void setInputObserver(Consumer<Tensor> observer) {
        this.inputObserver = observer;
    }
}
