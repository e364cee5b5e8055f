package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.train.TrainerCallback;
import java.util.List;

/** The BatchNorm diagnostics the trainer installs by default, all printing through one {@link WarningSink}. */
public final class Diagnostics {
    private Diagnostics() {}

    /**
     * Small per-channel sample count, BatchNorm after a sign-dependent activation, evaluation in training mode,
     * invalid running statistics, unusual momentum and zero-variance channels.
     */
    public static List<TrainerCallback> defaults(WarningSink sink) {
        return defaults(sink, 1);
    }

    /** The defaults for one rank of {@code ranks} in data-parallel training (per-rank batch statistics count). */
    public static List<TrainerCallback> defaults(WarningSink sink, int ranks) {
        return List.of(new SmallBatchCheck(sink, ranks), new AfterActivationCheck(sink), new EvalModeCheck(sink),
                new RunningStatsCheck(sink), new MomentumCheck(sink), new ZeroVarianceCheck(sink));
    }

    /** The defaults printing to standard error. */
    public static List<TrainerCallback> defaults() {
        return defaults(WarningSink.stderr());
    }
}
