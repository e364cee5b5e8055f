package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.kernel.WorkerPool;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the protocol: collects the runs of the chosen experiments (shared runs once), executes independent runs
 * side by side, one thread each (so every run is bit-identical to a single-threaded rerun), then evaluates
 * every claim against its criteria.
 */
public final class Reproduction {
    /** Every experiment, in claim order. */
    public static final List<Experiment> EXPERIMENTS = List.of(new E1Convergence(), new E2LearningRates(),
            new E3Sigmoid(), new E4Stability(), new E5InitScale(), new E6SmallBatch(), new E7Regularization(),
            new E8Folding());

    private Reproduction() {}

    /** The outcome: every claim's result, the raw runs, and the wall time. */
    public record Outcome(Settings settings, List<ClaimResult> claims, Results results, double seconds, int workers) {}

    public static Outcome run(Settings s, Set<Integer> claims, ReproData data, int workers, PrintStream log) {
        long t0 = System.nanoTime();
        List<Experiment> chosen = EXPERIMENTS.stream().filter(e -> claims.contains(e.claim())).toList();
        List<RunSpec> order = Plan.of(s, claims);
        order.sort(Comparator.comparingDouble(Reproduction::cost).reversed()); // longest first packs best
        Results results = new Results(s.seeds());
        int previous = WorkerPool.threads();
        WorkerPool.setThreads(1);
        Progress progress = new Progress(log, order.stream().mapToDouble(Reproduction::cost).sum(), order.size());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
            Thread t = new Thread(r, "bn4j-repro");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (RunSpec spec : order) {
                futures.add(pool.submit(() -> {
                    double perStep = cost(spec) / Math.max(1, spec.steps());
                    AtomicLong last = new AtomicLong();
                    RunResult r = Runner.run(spec, data, step -> {
                        progress.advance(perStep * (step - last.getAndSet(step)), spec.key());
                    });
                    progress.finished(perStep * (spec.steps() - last.get()));
                    results.add(r);
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("A run failed: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for the runs", e);
                }
            }
            progress.done();
            // Evaluation (E8 folds and times models) runs single-threaded too, like the protocol's timings.
            List<ClaimResult> out = new ArrayList<>();
            for (Experiment e : chosen) {
                out.add(GateTable.shipped().apply(s, e.evaluate(s, results, data)));
            }
            return new Outcome(s, out, results, (System.nanoTime() - t0) / 1e9, workers);
        } finally {
            pool.shutdownNow();
            WorkerPool.setThreads(previous);
        }
    }

    /** Rough multiply-adds of a run (training at 3x the forward cost, plus evaluations). */
    static double cost(RunSpec s) {
        double perImage;
        if (s.arch() == RunSpec.Arch.MLP) {
            int in = 784;
            perImage = 0;
            for (int h : s.hidden()) {
                perImage += (double) in * h;
                in = h;
            }
            perImage += in * 10.0;
        } else {
            int in = 1, hw = 28;
            perImage = 0;
            for (int i = 0; i < s.hidden().length; i++) {
                perImage += 9.0 * in * s.hidden()[i] * hw * hw;
                in = s.hidden()[i];
                hw = i < 2 ? hw / 2 : hw;
            }
        }
        double train = 3 * perImage * s.batchSize() * s.steps() + 2e4 * s.steps(); // + per-step overhead
        double eval = perImage * 10_000.0 * s.evalAt().length;
        return train + eval;
    }
}
