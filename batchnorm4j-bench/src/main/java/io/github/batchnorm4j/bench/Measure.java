package io.github.batchnorm4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Timing loops and order statistics shared by the benchmarks. Measurements, never pass/fail checks. */
public final class Measure {
    private Measure() {}

    /**
     * Median milliseconds per call. Warm-up runs batches of about 20 ms until the JIT has settled: the best batch
     * has not improved by 3% for 3 batches, at least 1000 calls have run for tensors under 1M elements (20 above:
     * interpreted and C1-compiled Vector API code is orders of magnitude slower, and small calls need hundreds of
     * invocations before C2 compiles the vector loops), and at least a third of {@code minMs} has passed; at most
     * 60 s. Then samples of about 2 ms of
     * calls are taken until {@code minMs} of samples (at least 15) are measured.
     */
    public static double medianMs(Runnable op, long numel, double minMs) {
        // Long loops get compiled on the stack within a few calls; small calls need invocation counts.
        long minCalls = numel >= (1 << 20) ? 20 : 1000;
        long start = System.nanoTime();
        op.run();
        double perCall = Math.max(1e-4, (System.nanoTime() - start) / 1e6);
        double best = Double.MAX_VALUE;
        int stale = 0;
        long calls = 1;
        while (true) {
            int batch = (int) Math.max(1, Math.min(100_000, 20.0 / perCall));
            long s = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                op.run();
            }
            calls += batch;
            perCall = Math.max(1e-5, (System.nanoTime() - s) / 1e6 / batch);
            if (perCall < best * 0.97) {
                best = perCall;
                stale = 0;
            } else {
                stale++;
            }
            double elapsed = (System.nanoTime() - start) / 1e6;
            if ((stale >= 3 && calls >= minCalls && elapsed >= minMs / 3) || elapsed > 60_000) {
                break;
            }
        }
        int inner = (int) Math.max(1, Math.ceil(2.0 / best));
        List<Double> samples = new ArrayList<>();
        double total = 0;
        while (samples.size() < 15 || total < minMs) {
            long s = System.nanoTime();
            for (int i = 0; i < inner; i++) {
                op.run();
            }
            double ms = (System.nanoTime() - s) / 1e6;
            total += ms;
            samples.add(ms / inner);
            if (samples.size() > 2000) {
                break;
            }
        }
        return median(samples.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Calls of {@code op} per second over a loop of at least {@code ms} milliseconds. */
    public static double callsPerSecond(Runnable op, int ms) {
        long budget = ms * 1_000_000L;
        long start = System.nanoTime();
        long iters = 0;
        long elapsed;
        do {
            op.run();
            iters++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < budget);
        return iters / (elapsed / 1e9);
    }

    /** The median of {@code v} (NaN when empty); {@code v} is not changed. */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Calls per second of each op in {@code rounds} interleaved rounds: each op is first warmed up for
     * {@code warmupMs}; in round r the ops run in the order r, r+1, ... (mod count), so that drifting machine load hits
     * them alike, each timing a loop of at least {@code minMs} after a GC (so that one op's garbage is not collected
     * in another's loop). Returns {@code [op][round]}.
     */
    public static double[][] interleaved(List<Runnable> ops, int rounds, int minMs, int warmupMs) {
        int n = ops.size();
        for (Runnable op : ops) {
            callsPerSecond(op, warmupMs);
        }
        double[][] perRound = new double[n][rounds];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < n; i++) {
                int v = (round + i) % n;
                System.gc();
                perRound[v][round] = callsPerSecond(ops.get(v), minMs);
            }
        }
        return perRound;
    }

    /** The largest value of {@code v}. */
    public static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
