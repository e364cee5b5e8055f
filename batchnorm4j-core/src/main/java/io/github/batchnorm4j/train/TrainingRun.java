package io.github.batchnorm4j.train;

import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.optim.Adam;
import io.github.batchnorm4j.optim.LrSchedule;
import io.github.batchnorm4j.optim.NoDecay;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.optim.Sgd;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Wires a {@link RunConfig} into data, model, optimizer, schedule and {@link Trainer}; the CLI's {@code train} and
 * the resume tests use it. The model is initialised from {@code SplittableRandom(seed)}; the validation split, the
 * shuffles and the normalisation statistics (mean/std of the training split) follow from the seed and the data.
 */
public final class TrainingRun {
    private final RunConfig config;
    private final Module model;
    private final Optimizer optimizer;
    private final Trainer trainer;
    private final DataLoader test;
    private final Path out;

    private TrainingRun(RunConfig config, DataLocator.Splits data, Path out, PrintStream progress, boolean terminal,
                        int logEvery, long checkpointEvery) {
        this.config = config;
        this.out = out;
        DataSet[] split = data.train().split(Math.min(config.validation(), data.train().size() - 1), config.seed());
        DataSet trainSet = split[0];
        float[] ms = trainSet.meanStd();
        float std = ms[1] > 0 ? ms[1] : 1f;
        DataLoader train = new DataLoader(trainSet, config.batchSize(), true, config.dropLast(), config.seed(), ms[0],
                std);
        DataLoader val = split[1].size() == 0 ? null
                : new DataLoader(split[1], 500, false, false, 0, ms[0], std);
        this.test = data.test() == null || data.test().size() == 0 ? null
                : new DataLoader(data.test(), 500, false, false, 0, ms[0], std);
        int[] item = trainSet.itemShape();
        ModelSpec base = ModelSpec.of(config.model(), config.norm(), config.activation());
        ModelSpec spec = new ModelSpec(config.model(), config.norm(), config.activation(),
                config.width() > 0 ? config.width() : base.width(), item, data.train().numClasses());
        this.model = ModelFactory.build(spec, new SplittableRandom(config.seed()));
        Set<String> noDecay = config.noDecayNormBias() ? NoDecay.normAndBias(model) : Set.of();
        this.optimizer = switch (config.optimizer()) {
            case "sgd" -> new Sgd(model.namedParameters(), config.lr(), config.momentum(), 0, config.nesterov(),
                    config.weightDecay(), noDecay);
            case "adam" -> new Adam(model.namedParameters(), config.lr(), 0.9, 0.999, 1e-8, config.weightDecay(),
                    noDecay, false);
            default -> Adam.adamW(model.namedParameters(), config.lr(), config.weightDecay(), noDecay);
        };
        long total = config.totalSteps(train.batchesPerEpoch());
        LrSchedule schedule = switch (config.schedule()) {
            case "step" -> LrSchedule.step(config.lr(), Math.max(1, config.stepSize()), config.gamma());
            case "cosine" -> LrSchedule.cosine(config.lr(), Math.max(1, total), 0);
            default -> LrSchedule.constant(config.lr());
        };
        if (config.warmupSteps() > 0) {
            schedule = schedule.withWarmup(config.warmupSteps());
        }
        Map<String, String> meta = new LinkedHashMap<>(config.toMetadata());
        meta.put("normalization.mean", Float.toString(ms[0]));
        meta.put("normalization.std", Float.toString(std));
        this.trainer = new Trainer(model, optimizer, schedule, train, val,
                new Trainer.Config(total, logEvery, checkpointEvery, out, progress, terminal, meta));
    }

    /** A fresh run writing into {@code out}. */
    public static TrainingRun create(RunConfig config, DataLocator.Splits data, Path out, PrintStream progress,
                                     boolean terminal, int logEvery, long checkpointEvery) {
        return new TrainingRun(config, data, out, progress, terminal, logEvery, checkpointEvery);
    }

    /** Reads the data for {@code config} ({@code --data}, BN4J_DATA, Debian's folder). */
    public static DataLocator.Splits loadData(RunConfig config) throws IOException {
        return DataLocator.load(config.data(), System.getenv(DataLocator.ENV));
    }

    /** The configuration stored in {@code dir}'s checkpoint. */
    public static RunConfig storedConfig(Path dir) throws IOException {
        Path ck = dir.resolve(Checkpoint.FILE_NAME);
        if (!Files.isRegularFile(ck)) {
            throw new IOException("Expected a checkpoint " + ck + " to resume from, got no such file");
        }
        return RunConfig.fromMetadata(Checkpoint.metadata(ck));
    }

    /** Restores the checkpoint in {@code out} into this run. */
    public TrainingRun resume() throws IOException {
        trainer.resume(out.resolve(Checkpoint.FILE_NAME));
        return this;
    }

    public Trainer trainer() {
        return trainer;
    }

    public Module model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public RunConfig config() {
        return config;
    }

    /** Evaluates on the test set (eval mode) and appends a {@code test} line to the metrics; null without one. */
    public Trainer.Evaluation evaluateTest() throws IOException {
        if (test == null) {
            return null;
        }
        Trainer.Evaluation e = trainer.evaluate(test);
        if (out != null) {
            try (MetricsWriter w = MetricsWriter.open(out.resolve("metrics.jsonl"), Long.MAX_VALUE)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "test");
                m.put("step", trainer.step());
                m.put("accuracy", e.accuracy());
                m.put("loss", e.loss());
                m.put("count", e.count());
                w.write(m);
            }
        }
        return e;
    }
}
