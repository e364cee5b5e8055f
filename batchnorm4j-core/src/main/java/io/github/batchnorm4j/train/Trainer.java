package io.github.batchnorm4j.train;

import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.dist.DataParallel;
import io.github.batchnorm4j.dist.DistributedSampler;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.StatisticsAccumulation;
import io.github.batchnorm4j.optim.LrSchedule;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Supervised training with cross-entropy: step {@code s} (0-based) uses batch {@code s mod B} of epoch
 * {@code s div B} ({@code B} batches per epoch), the learning rate {@code schedule.lr(s)}, then one optimizer step.
 * At each epoch end the model is evaluated in eval mode, and a checkpoint is written (also every
 * {@code checkpointEvery} steps and at the end). Because data order, learning rate and model updates depend only on
 * the step and the seed, a run resumed from a checkpoint continues bit-identically.
 *
 * <p>The trainer turns buffer reuse on for its model ({@link Module#reuseBuffers}), so that a step allocates
 * nothing; call {@code reuseBuffers(false)} on the model afterwards to get fresh results from it again.
 *
 * <p>Outputs in {@code outDir} (when set): {@code checkpoint.safetensors} (resumable), {@code model.safetensors}
 * (weights and buffers under PyTorch keys) and {@code metrics.jsonl}. A NaN or infinite loss stops training with a
 * {@link TrainingDivergedException} before the bad step changes anything; the last checkpoint stays as it was.
 * With {@link #onNonFinite onNonFinite(SKIP, n)} such a step (a non-finite loss or gradient) is instead thrown
 * away exactly (weights, optimizer state and buffers as before it), counted, and training goes on with the next
 * batch, unless it is the {@code n}-th skipped step in a row.
 */
public final class Trainer {
    /**
     * @param totalSteps      optimizer steps of the whole run
     * @param logEvery        a metrics line every this many steps (and at the last)
     * @param checkpointEvery an extra checkpoint every this many steps (0: only at epoch ends and the end)
     * @param outDir          where checkpoints, the model and metrics go; null writes nothing
     * @param progress        where the progress bar goes; null for none
     * @param terminal        redraw the bar in place (a terminal) rather than printing lines
     * @param metadata        stored in every checkpoint (configuration, seed), e.g. to rebuild the model on resume
     */
    public record Config(long totalSteps, int logEvery, long checkpointEvery, Path outDir, PrintStream progress,
                         boolean terminal, Map<String, String> metadata) {
        public Config {
            if (totalSteps < 0) {
                throw new IllegalArgumentException("Expected total steps >= 0, got " + totalSteps);
            }
            if (logEvery <= 0) {
                throw new IllegalArgumentException("Expected logEvery > 0, got " + logEvery);
            }
            metadata = Map.copyOf(metadata);
        }
    }

    /** What a step whose loss or gradients are NaN or infinite does. */
    public enum NonFinitePolicy {
        /** Stop training with a {@link TrainingDivergedException} (the default). */
        STOP,
        /** Discard the step exactly and go on; stop after too many skipped steps in a row. */
        SKIP
    }

    /** Accuracy in [0, 1] and mean loss over a data set. */
    public record Evaluation(double accuracy, double loss, int count) {}

    /** Checkpoint metadata: steps skipped so far, and how many of the last ones in a row. */
    static final String SKIPPED_KEY = "nonfinite.skipped_steps";
    static final String CONSECUTIVE_KEY = "nonfinite.consecutive_skips";

    private final Module model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final DataLoader train;
    private final DataLoader validation;
    private final Config config;
    private final CrossEntropyLoss loss = new CrossEntropyLoss();
    private final List<TrainerCallback> callbacks = new ArrayList<>();
    private long step;
    private long lastCheckpointStep = -1;
    private double lastLoss = Double.NaN;
    /** Data-parallel training: this trainer is one rank of {@code parallel}'s group; null for one process. */
    private DataParallel parallel;
    private DistributedSampler sampler;
    private int accumulate = 1;
    /** Set by {@code onNonFinite(SKIP, ...)}: copies the buffers before each forward; null for STOP (no cost). */
    private NonFiniteGuard guard;
    private int maxConsecutiveSkips;
    private int consecutiveSkips;
    private long skippedSteps;

    public Trainer(Module model, Optimizer optimizer, LrSchedule schedule, DataLoader train, DataLoader validation,
                   Config config) {
        this.model = model;
        model.reuseBuffers(true); // the loop keeps no result past the next step: no allocation per batch
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.train = train;
        this.validation = validation;
        this.config = config;
    }

    public Trainer addCallback(TrainerCallback cb) {
        callbacks.add(cb);
        return this;
    }

    /**
     * Makes this trainer one rank of a data-parallel group. The training loader's batch size must be the global
     * batch {@code perRankBatch * ranks}: each step this rank trains on its contiguous slice of that global batch
     * ({@link DistributedSampler}), its loss gradient is scaled to its share of the global batch's mean loss and the
     * gradients are summed over the ranks before the optimizer step ({@link DataParallel#sumGradients}), the logged
     * loss and the evaluation results are reduced over the ranks, and only a trainer with an output folder (rank 0)
     * writes files. The model's initial state must already be identical on every rank ({@link
     * DataParallel#broadcastInitialState()}).
     */
    public Trainer distributed(DataParallel dp, int perRankBatch, boolean dropLast) {
        int ranks = dp.communicator().size();
        if ((long) perRankBatch * ranks != train.batchSize()) {
            throw new IllegalArgumentException("Expected the training loader's batch to be the global batch "
                    + perRankBatch + " x " + ranks + " ranks, got " + train.batchSize());
        }
        this.parallel = dp;
        this.sampler = new DistributedSampler(train.dataSet().size(), perRankBatch, dp.communicator().rank(), ranks,
                dropLast);
        return this;
    }

    /**
     * One optimizer step per {@code k} consecutive batches (micro-batches) of the epoch order, on the gradient of
     * the mean loss over all their rows (each micro-batch's loss gradient weighted by its share of the rows); the
     * BatchNorm layers' running statistics are updated once per step with the merged statistics of the
     * micro-batches ({@link StatisticsAccumulation}). An epoch has {@code floor(B / k)} steps; its last
     * {@code B mod k} batches are skipped. Each micro-batch is normalised with its own statistics.
     */
    public Trainer accumulate(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("Expected --accumulate >= 1, got " + k);
        }
        this.accumulate = k;
        return this;
    }

    /** Rows of batch {@code b} of the (single-process) training loader. */
    private int rows(int b) {
        return Math.min(train.batchSize(), train.dataSet().size() - b * train.batchSize());
    }

    /**
     * Sets what a step with a NaN or infinite loss or gradient does. With {@link NonFinitePolicy#SKIP} the step's
     * batch is consumed but nothing of the step is kept: the buffers the forward pass changed (running statistics,
     * {@code num_batches_tracked}) are restored from a copy taken before it, and neither the optimizer step nor its
     * state update happens. The {@code maxConsecutiveSkips}-th skipped step in a row stops training with a
     * {@link TrainingDivergedException}. Costs, per step, a copy of the buffers and one pass over the gradients;
     * {@link NonFinitePolicy#STOP} costs nothing.
     */
    public Trainer onNonFinite(NonFinitePolicy policy, int maxConsecutiveSkips) {
        if (maxConsecutiveSkips < 1) {
            throw new IllegalArgumentException("Expected at least 1 consecutive skipped step before stopping, got "
                    + maxConsecutiveSkips);
        }
        this.guard = policy == NonFinitePolicy.SKIP ? new NonFiniteGuard(model) : null;
        this.maxConsecutiveSkips = maxConsecutiveSkips;
        return this;
    }

    /** Steps skipped for a non-finite loss or gradient over the whole run (resumed runs included). */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** Optimizer steps done so far. */
    public long step() {
        return step;
    }

    /** Optimizer steps of the whole run. */
    public long totalSteps() {
        return config.totalSteps();
    }

    /** Loss of the last training step. */
    public double lastLoss() {
        return lastLoss;
    }

    public Path checkpointFile() {
        return config.outDir() == null ? null : config.outDir().resolve(Checkpoint.FILE_NAME);
    }

    /** Continues from a checkpoint written by this trainer (same model and optimizer kinds). */
    public Map<String, String> resume(Path checkpoint) throws IOException {
        Map<String, String> meta = Checkpoint.restore(checkpoint, model, optimizer);
        step = Long.parseLong(meta.get("step"));
        lastCheckpointStep = step;
        skippedSteps = Long.parseLong(meta.getOrDefault(SKIPPED_KEY, "0"));
        consecutiveSkips = Integer.parseInt(meta.getOrDefault(CONSECUTIVE_KEY, "0"));
        return meta;
    }

    /** Trains up to {@code totalSteps}; returns the last validation result (null without a validation set). */
    public Evaluation fit() throws IOException {
        int perEpoch = train.batchesPerEpoch();
        int stepsPerEpoch = perEpoch / accumulate;
        if (stepsPerEpoch == 0 && step < config.totalSteps()) {
            throw new IllegalArgumentException("Expected at least " + accumulate + " batches per epoch for"
                    + " --accumulate " + accumulate + ", got " + perEpoch);
        }
        Path out = config.outDir();
        if (out != null) {
            Files.createDirectories(out);
        }
        Evaluation last = null;
        ProgressBar bar = config.progress() == null ? null
                : new ProgressBar(config.progress(), config.totalSteps(), config.terminal());
        long startStep = step;
        long t0 = System.nanoTime();
        long images = 0;
        try (MetricsWriter metrics = out == null ? null
                : MetricsWriter.open(out.resolve("metrics.jsonl"), lastCheckpointStep)) {
            while (step < config.totalSteps()) {
                long epoch = step / stepsPerEpoch;
                int first = (int) (step % stepsPerEpoch) * accumulate;
                double lr = schedule.lr(step);
                optimizer.setLr(lr);
                model.train();
                long global = 0; // rows of the whole optimizer step, over all micro-batches and ranks
                for (int i = 0; i < accumulate; i++) {
                    global += sampler == null ? rows(first + i) : sampler.globalCount(first + i);
                }
                if (accumulate > 1) {
                    StatisticsAccumulation.begin(model);
                }
                double lossSum = 0;
                double correctSum = 0; // correct predictions of the step's batches, in train mode
                double single = Double.NaN;
                String nonFinite = null;
                for (int i = 0; i < accumulate; i++) {
                    int b = first + i;
                    DataLoader.Batch batch = sampler == null ? train.batch(epoch, b)
                            : train.slice(epoch, sampler.from(b), sampler.to(b));
                    if (i == 0) {
                        for (TrainerCallback cb : callbacks) {
                            cb.beforeTrainStep(model, step, batch.input());
                        }
                        // every parameter, also any the optimizer does not update (diagnostics read them)
                        model.zeroGrad();
                        if (guard != null) {
                            guard.snapshot(); // before the first forward pass of the step changes any buffer
                        }
                    }
                    Tensor logits = model.forward(batch.input());
                    double l = loss.forward(logits, batch.labels());
                    double[] sums = {batch.size() == 0 ? 0 : l * batch.size(), batch.size(),
                            batch.size() == 0 ? 0 : loss.correct()};
                    if (parallel != null) {
                        // The global sums; every rank gets the same value, so all stop (or skip) together.
                        parallel.sum(sums);
                    }
                    if (!Double.isFinite(sums[0] / sums[1])) {
                        if (guard == null) {
                            throw diverged(sums[0] / sums[1], epoch, b);
                        }
                        nonFinite = "Loss is " + name(sums[0] / sums[1]);
                        break;
                    }
                    lossSum += sums[0];
                    correctSum += sums[2];
                    single = l;
                    Tensor dLogits = loss.backward();
                    if (parallel != null || accumulate > 1) {
                        // This micro-batch's share of the step's mean loss, before the backward: synchronized
                        // BatchNorm layers couple the ranks' backward passes, exact only on the global loss's
                        // scale; accumulated gradients then simply add up.
                        scale(dLogits, (double) batch.size() / global);
                    }
                    model.backward(dLogits);
                }
                if (accumulate > 1) {
                    StatisticsAccumulation.commit(model); // a skipped step's commit is undone by the guard
                }
                if (nonFinite == null && parallel != null) {
                    parallel.sumGradients();
                }
                if (nonFinite == null && guard != null && !guard.gradientsFinite()) {
                    nonFinite = "A gradient is NaN or infinite";
                }
                // One process, one batch: its mean loss itself (no rounding through the sum).
                double l = parallel == null && accumulate == 1 ? single : lossSum / global;
                double accuracy = global == 0 ? Double.NaN : correctSum / global;
                if (nonFinite == null) {
                    optimizer.step();
                    lastLoss = l;
                    consecutiveSkips = 0;
                    for (TrainerCallback cb : callbacks) {
                        cb.afterTrainStep(model, step, l);
                    }
                } else {
                    // every rank decides alike: losses and gradients are reduced before the decision
                    skip(nonFinite, epoch, first, metrics);
                }
                step++;
                images += global;
                double secs = (System.nanoTime() - t0) / 1e9;
                double ips = images / Math.max(secs, 1e-9);
                double eta = (config.totalSteps() - step) * secs / Math.max(1, step - startStep);
                if (nonFinite == null && metrics != null
                        && (step % config.logEvery() == 0 || step == config.totalSteps())) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("event", "train");
                    m.put("step", step);
                    m.put("epoch", epoch);
                    m.put("loss", l);
                    m.put("accuracy", accuracy); // of this training batch, in train mode
                    m.put("lr", lr);
                    m.put("images_per_s", Math.round(ips * 10) / 10.0);
                    metrics.write(m);
                }
                if (bar != null) {
                    bar.update(step, l, ips, eta, step == config.totalSteps());
                }
                boolean epochEnd = step % stepsPerEpoch == 0;
                if (epochEnd) {
                    if (validation != null) {
                        last = evaluate(validation);
                        if (metrics != null) {
                            metrics.write(evalLine(last, epoch));
                        }
                    }
                    for (TrainerCallback cb : callbacks) {
                        cb.afterEpoch(model, (int) epoch);
                    }
                }
                boolean periodic = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
                if (out != null && (epochEnd || periodic || step == config.totalSteps())) {
                    checkpoint();
                }
            }
        } finally {
            if (bar != null) {
                bar.finish();
            }
        }
        if (validation != null && last == null && step > 0) {
            last = evaluate(validation); // a run shorter than an epoch still reports validation results
            if (out != null) {
                try (MetricsWriter metrics = MetricsWriter.open(out.resolve("metrics.jsonl"), Long.MAX_VALUE)) {
                    metrics.write(evalLine(last, step / Math.max(1, stepsPerEpoch)));
                }
            }
        }
        if (out != null && lastCheckpointStep != step) {
            checkpoint(); // e.g. a resumed run that had nothing left to do still leaves model.safetensors
        }
        return last;
    }

    private static void scale(Tensor t, double factor) {
        float f = (float) factor;
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] *= f;
        }
    }

    private Map<String, Object> evalLine(Evaluation e, long epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "eval");
        m.put("step", step);
        m.put("epoch", epoch);
        m.put("accuracy", e.accuracy());
        m.put("loss", e.loss());
        m.put("count", e.count());
        return m;
    }

    private TrainingDivergedException diverged(double l, long epoch, int b) {
        return new TrainingDivergedException("Loss is " + name(l) + " at step " + step + " (epoch " + epoch
                + ", batch " + b + ", learning rate " + optimizer.lr() + "); training stopped, " + checkpointState(),
                step);
    }

    private static String name(double l) {
        return Double.isNaN(l) ? "NaN" : l > 0 ? "+Infinity" : "-Infinity";
    }

    private String checkpointState() {
        return checkpointFile() == null ? "no checkpoint was written"
                : lastCheckpointStep < 0 ? "no checkpoint had been written yet"
                : "the last checkpoint (step " + lastCheckpointStep + ") in " + checkpointFile() + " is intact";
    }

    /** Throws the current step away (see {@link #onNonFinite}); stops at the limit of consecutive skips. */
    private void skip(String why, long epoch, int b, MetricsWriter metrics) throws IOException {
        guard.restore();
        skippedSteps++;
        consecutiveSkips++;
        if (metrics != null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "skip");
            m.put("step", step + 1); // steps done, this one included, as on the other lines
            m.put("epoch", epoch);
            m.put("batch", b);
            m.put("reason", why);
            m.put("consecutive", consecutiveSkips);
            metrics.write(m);
        }
        if (consecutiveSkips >= maxConsecutiveSkips) {
            throw new TrainingDivergedException(why + " at step " + step + " (epoch " + epoch + ", batch " + b
                    + ", learning rate " + optimizer.lr() + "); skipped steps in a row: " + consecutiveSkips + ", the limit;"
                    + " training stopped, " + checkpointState(), step);
        }
    }

    /** Writes the checkpoint and the PyTorch-keyed model file (both atomically). */
    public void checkpoint() throws IOException {
        Path out = config.outDir();
        Map<String, String> meta = new LinkedHashMap<>(config.metadata());
        if (skippedSteps > 0) {
            meta.put(SKIPPED_KEY, Long.toString(skippedSteps));
            meta.put(CONSECUTIVE_KEY, Integer.toString(consecutiveSkips));
        }
        Checkpoint.save(out.resolve(Checkpoint.FILE_NAME), model, optimizer, step, meta);
        Map<String, String> modelMeta = new LinkedHashMap<>(config.metadata());
        modelMeta.put("step", Long.toString(step));
        StateDicts.save(model, out.resolve("model.safetensors"), modelMeta);
        lastCheckpointStep = step;
    }

    /** Accuracy and mean loss over every item of {@code data}, in eval mode; restores the previous mode. */
    public Evaluation evaluate(DataLoader data) {
        boolean wasTraining = model.isTraining();
        model.eval();
        for (TrainerCallback cb : callbacks) {
            cb.beforeEvaluate(model, step);
        }
        Evaluation e = parallel == null ? evaluate(model, data, loss) : evaluateSharded(data);
        for (TrainerCallback cb : callbacks) {
            cb.afterEvaluate(model, step, e.accuracy(), e.loss());
        }
        model.train(wasTraining);
        return e;
    }

    /** Data-parallel evaluation: rank r evaluates batches r, r+N, ...; the sums are reduced over the ranks. */
    private Evaluation evaluateSharded(DataLoader data) {
        int rank = parallel.communicator().rank();
        int ranks = parallel.communicator().size();
        double sum = 0;
        long correct = 0;
        int n = 0;
        for (int b = rank; b < data.batchesPerEpoch(); b += ranks) {
            DataLoader.Batch batch = data.batch(0, b);
            sum += loss.forward(model.forward(batch.input()), batch.labels()) * batch.size();
            correct += loss.correct();
            n += batch.size();
        }
        double[] t = parallel.sum(sum, correct, n);
        return new Evaluation(t[2] == 0 ? Double.NaN : t[1] / t[2], t[2] == 0 ? Double.NaN : t[0] / t[2], (int) t[2]);
    }

    /** Accuracy and mean loss of {@code model} (in its current mode) over epoch 0 of {@code data}. */
    public static Evaluation evaluate(Module model, DataLoader data, CrossEntropyLoss loss) {
        double sum = 0;
        long correct = 0;
        int n = 0;
        for (int b = 0; b < data.batchesPerEpoch(); b++) {
            DataLoader.Batch batch = data.batch(0, b);
            sum += loss.forward(model.forward(batch.input()), batch.labels()) * batch.size();
            correct += loss.correct();
            n += batch.size();
        }
        return new Evaluation(n == 0 ? Double.NaN : (double) correct / n, n == 0 ? Double.NaN : sum / n, n);
    }
}
