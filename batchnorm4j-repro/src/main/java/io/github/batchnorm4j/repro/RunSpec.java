package io.github.batchnorm4j.repro;

import java.util.Arrays;

/**
 * One training run of the protocol (docs/protocol.md): the network, its normalization,
 * the optimizer settings, the schedule of evaluations, and the seed. Immutable; the {@code with*} methods copy.
 *
 * @param key        unique name of the run within a reproduction, e.g. {@code E1/bn@0.1/s7}
 * @param hidden     hidden widths of an MLP, or the conv channels of a CNN
 * @param initScale  the factor c on the hidden layers' init std (E5); output layer always at c = 1
 * @param trainSubset use only the first n training images (E7b); 0 = all
 * @param evalAt     steps after which the whole test set is evaluated (ascending)
 * @param probeEvery record the E4 percentiles of the last hidden layer's sigmoid inputs at step 1 and every
 *                   this many steps (0 = no probe)
 * @param gradEvery  record E3's gradient-norm ratio every this many steps (0 = never)
 * @param preciseBn  also evaluate with PreciseBN statistics at the end (E6a)
 * @param keepModel  keep the trained model in the result (E8 folds it)
 */
public record RunSpec(String key, String experiment, String variant, long seed, Arch arch, int[] hidden,
                      Activation activation, Norm norm, double dropout, double initScale, int batchSize, double lr,
                      double momentum, long steps, long[] evalAt, int trainSubset, long probeEvery, long gradEvery,
                      boolean preciseBn, boolean keepModel, double rmaxLimit, double dmaxLimit) {

    public enum Arch { MLP, CNN }

    public enum Activation { SIGMOID, RELU }

    /** The normalization after each hidden linear/conv layer; NOISY_BN is BN followed by per-step noise (E4b). */
    public enum Norm { NONE, BN, BRN, GN, LN, NOISY_BN }

    /** An MLP run with the protocol's defaults: plain SGD, no dropout, c = 1, full data. */
    public static RunSpec mlp(String experiment, String variant, long seed, int[] hidden, Activation act, Norm norm,
                              int batchSize, double lr, long steps, long[] evalAt) {
        return new RunSpec(experiment + "/" + variant + "/s" + seed, experiment, variant, seed, Arch.MLP, hidden, act,
                norm, 0, 1, batchSize, lr, 0, steps, evalAt, 0, 0, 0, false, false, 3, 5);
    }

    /** A CNN run (E6b, E8): SGD with momentum 0.9. */
    public static RunSpec cnn(String experiment, String variant, long seed, int[] channels, Norm norm, int batchSize,
                              double lr, long steps, long[] evalAt) {
        return new RunSpec(experiment + "/" + variant + "/s" + seed, experiment, variant, seed, Arch.CNN, channels,
                Activation.RELU, norm, 0, 1, batchSize, lr, 0.9, steps, evalAt, 0, 0, 0, false, false, 3, 5);
    }

    public RunSpec withDropout(double p) {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, p, initScale, batchSize, lr,
                momentum, steps, evalAt, trainSubset, probeEvery, gradEvery, preciseBn, keepModel, rmaxLimit, dmaxLimit);
    }

    public RunSpec withInitScale(double c) {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, c, batchSize, lr,
                momentum, steps, evalAt, trainSubset, probeEvery, gradEvery, preciseBn, keepModel, rmaxLimit, dmaxLimit);
    }

    public RunSpec withTrainSubset(int n) {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, initScale,
                batchSize, lr, momentum, steps, evalAt, n, probeEvery, gradEvery, preciseBn, keepModel, rmaxLimit, dmaxLimit);
    }

    public RunSpec withProbe(long every) {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, initScale,
                batchSize, lr, momentum, steps, evalAt, trainSubset, every, gradEvery, preciseBn, keepModel, rmaxLimit, dmaxLimit);
    }

    public RunSpec withGradEvery(long every) {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, initScale,
                batchSize, lr, momentum, steps, evalAt, trainSubset, probeEvery, every, preciseBn, keepModel,
                rmaxLimit, dmaxLimit);
    }

    public RunSpec withPreciseBn() {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, initScale,
                batchSize, lr, momentum, steps, evalAt, trainSubset, probeEvery, gradEvery, true, keepModel, rmaxLimit, dmaxLimit);
    }

    public RunSpec withKeepModel() {
        return new RunSpec(key, experiment, variant, seed, arch, hidden, activation, norm, dropout, initScale,
                batchSize, lr, momentum, steps, evalAt, trainSubset, probeEvery, gradEvery, preciseBn, true, rmaxLimit, dmaxLimit);
    }

    @Override
    public String toString() {
        return key + " " + arch + Arrays.toString(hidden) + " " + activation + " " + norm + " B=" + batchSize + " lr="
                + lr + " steps=" + steps;
    }

    /**
     * Evaluation points every {@code every} steps up to {@code until}, then every {@code after} to {@code end}, and
     * the five final evaluations of {@link #finalFive}.
     */
    public static long[] evalSchedule(long every, long until, long after, long end) {
        java.util.TreeSet<Long> s = new java.util.TreeSet<>();
        for (long t : finalFive(end)) {
            s.add(t);
        }
        for (long t = every; t <= Math.min(until, end); t += every) {
            s.add(t);
        }
        for (long t = until + after; t <= end; t += after) {
            s.add(t);
        }
        s.add(end);
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The five evenly spaced evaluations in the last 10 % of a run of {@code end} steps, round(end·k/50) for
     * k = 46..50, whose mean is the run's final accuracy (docs/protocol.md, Metrics). Shorter runs get fewer
     * distinct steps.
     */
    public static long[] finalFive(long end) {
        return java.util.stream.LongStream.rangeClosed(46, 50).map(k -> Math.max(1, Math.round(end * k / 50.0)))
                .distinct().toArray();
    }
}
