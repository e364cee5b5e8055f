package io.github.batchnorm4j.train;

import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.data.DataSource;
import io.github.batchnorm4j.diag.Diagnostics;
import io.github.batchnorm4j.diag.WarningSink;
import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.DataParallel;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.models.ModelBuilder;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelFile;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.nn.norm.StatisticsAccumulation;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.optim.Adam;
import io.github.batchnorm4j.optim.LrSchedule;
import io.github.batchnorm4j.optim.NoDecay;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.report.TrainingReport;
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
    private final NormVariantConfig variant;
    private final Optimizer optimizer;
    private final Trainer trainer;
    private final DataLoader test;
    private final Path out;
    private final Communicator comm;
    private final DataParallel parallel;
    private final ModelBuilder.Built built;
    private final TrainingReport report;
    private final WarningSink warnings = WarningSink.stderr();
    /** The checkpoint metadata key holding the model file (JSON) a run was built from. */
    public static final String MODEL_FILE_KEY = "model.file";

    private TrainingRun(RunConfig config, NormVariantConfig variant, ModelFile modelFile, Path initFrom,
                        boolean diagnostics, DataLocator.Splits data, Path out, PrintStream progress, boolean terminal,
                        int logEvery, long checkpointEvery, Communicator comm, boolean syncBn) throws IOException {
        this.config = config;
        this.variant = variant;
        this.out = out;
        this.comm = comm;
        int ranks = comm.size();
        DataSet[] split = data.train().split(Math.min(config.validation(), data.train().size() - 1), config.seed());
        DataSet testSet = data.test();
        float[][] features = null;
        if (split[0].isFeatures()) {
            // A table: each feature standardised with the training split's statistics (stored in the checkpoint).
            features = split[0].featureMeanStd();
            split[0] = split[0].standardized(features[0], features[1]);
            split[1] = split[1].standardized(features[0], features[1]);
            testSet = testSet == null ? null : testSet.standardized(features[0], features[1]);
        }
        this.built = buildModel(config, variant, modelFile, split[0].itemShape(), data.train().numClasses());
        if (!java.util.Arrays.equals(built.input(), split[0].itemShape())) {
            // e.g. [1, 28, 28] images into a model whose input is [784]: the same values, seen flat
            split[0] = reshaped(split[0], built);
            split[1] = reshaped(split[1], built);
            testSet = testSet == null ? null : reshaped(testSet, built);
        }
        DataSet trainSet = split[0];
        float[] ms = trainSet.meanStd();
        float std = ms[1] > 0 ? ms[1] : 1f;
        // With N ranks the loader serves global batches of N x batch; each rank trains on its slice of them.
        DataLoader train = new DataLoader(trainSet, config.batchSize() * ranks, true, config.dropLast(), config.seed(),
                ms[0], std);
        DataLoader val = split[1].size() == 0 ? null
                : new DataLoader(split[1], 500, false, false, 0, ms[0], std);
        this.test = testSet == null || testSet.size() == 0 ? null
                : new DataLoader(testSet, 500, false, false, 0, ms[0], std);
        Module net = built.model();
        if (initFrom != null) {
            StateDicts.load(net, initFrom); // fine-tuning starts from trained weights and statistics
        }
        if (variant.freezeBn()) {
            // before the optimizer is made: frozen weight/bias are buffers, not parameters
            net = FrozenBatchNorm.freezeBatchNorm(net);
        }
        if (ranks > 1 && syncBn) {
            SyncBatchNorm.convert(net, comm);
        }
        this.model = net;
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
        if (features != null) {
            meta.put("normalization.feature_mean", floats(features[0]));
            meta.put("normalization.feature_std", floats(features[1]));
        }
        meta.put(MODEL_FILE_KEY, built.file().toJson());
        meta.putAll(data.info().toMetadata());
        meta.putAll(variant.toMetadata());
        if (ranks > 1) {
            meta.put("distributed.ranks", Integer.toString(ranks));
            meta.put("distributed.sync_bn", Boolean.toString(syncBn));
        }
        boolean root = comm.rank() == 0;
        this.trainer = new Trainer(model, optimizer, schedule, train, val, new Trainer.Config(total, logEvery,
                checkpointEvery, root ? out : null, root ? progress : null, terminal, meta));
        if (diagnostics && root) {
            for (TrainerCallback cb : Diagnostics.defaults(warnings, ranks)) {
                trainer.addCallback(cb);
            }
        }
        if (config.accumulate() > 1) {
            StatisticsAccumulation.check(model, config.batchSize());
            trainer.accumulate(config.accumulate());
        }
        if (root && out != null) {
            String what = modelFile == null ? config.model() + "/" + config.norm() + "/" + config.activation()
                    : built.file().name() != null ? built.file().name() : modelFile.source();
            report = new TrainingReport(out, what + " on " + data.dir() + ", " + config.optimizer() + " (lr "
                    + config.lr() + "), batch " + config.batchSize() + ", seed " + config.seed(), built.summary(),
                    warnings, total, System.err);
            trainer.addCallback(report);
        } else {
            report = null;
        }
        if (ranks > 1) {
            parallel = new DataParallel(model, comm);
            parallel.broadcastInitialState();
            trainer.distributed(parallel, config.batchSize(), config.dropLast());
        } else {
            parallel = null;
        }
    }

    /** A fresh run writing into {@code out}: plain BatchNorm variant settings, diagnostics on. */
    public static TrainingRun create(RunConfig config, DataLocator.Splits data, Path out, PrintStream progress,
                                     boolean terminal, int logEvery, long checkpointEvery) {
        try {
            return create(config, NormVariantConfig.DEFAULT, null, true, data, out, progress, terminal, logEvery,
                    checkpointEvery);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // unreachable: nothing is read without initFrom
        }
    }

    /**
     * A run with BatchNorm variant settings ({@code --norm brn|ghost}, {@code --freeze-bn}), optionally starting from
     * the weights and buffers in {@code initFrom} (a {@code model.safetensors}, loaded strictly before freezing),
     * and with the BatchNorm diagnostics ({@link Diagnostics#defaults()}) when {@code diagnostics}.
     */
    public static TrainingRun create(RunConfig config, NormVariantConfig variant, Path initFrom, boolean diagnostics,
                                     DataLocator.Splits data, Path out, PrintStream progress, boolean terminal,
                                     int logEvery, long checkpointEvery) throws IOException {
        return create(config, variant, initFrom, diagnostics, data, out, progress, terminal, logEvery,
                checkpointEvery, LocalCommunicator.INSTANCE, false);
    }

    /** A fresh run as one rank of {@code comm}'s group, plain BatchNorm variant settings, diagnostics on. */
    public static TrainingRun create(RunConfig config, DataLocator.Splits data, Path out, PrintStream progress,
                                     boolean terminal, int logEvery, long checkpointEvery, Communicator comm,
                                     boolean syncBn) {
        try {
            return create(config, NormVariantConfig.DEFAULT, null, true, data, out, progress, terminal, logEvery,
                    checkpointEvery, comm, syncBn);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // unreachable: nothing is read without initFrom
        }
    }

    /**
     * A run as one rank of {@code comm}'s group (data-parallel; see {@link Trainer#distributed}):
     * {@code config.batchSize()} is the per-rank batch; BatchNorm layers become SyncBatchNorm when {@code syncBn};
     * rank 0's initial state is broadcast; only rank 0 writes {@code out}, progress and diagnostics.
     */
    public static TrainingRun create(RunConfig config, NormVariantConfig variant, Path initFrom, boolean diagnostics,
                                     DataLocator.Splits data, Path out, PrintStream progress, boolean terminal,
                                     int logEvery, long checkpointEvery, Communicator comm, boolean syncBn)
            throws IOException {
        return new TrainingRun(config, variant, null, initFrom, diagnostics, data, out, progress, terminal, logEvery,
                checkpointEvery, comm, syncBn);
    }

    /**
     * As {@link #create(RunConfig, NormVariantConfig, Path, boolean, DataLocator.Splits, Path, PrintStream,
     * boolean, int, long, Communicator, boolean)}, with the model from {@code modelFile} (its variables
     * {@code ${norm}}, {@code ${activation}}, {@code ${width}} and {@code ${classes}} filled from the
     * configuration and the data) when not null, else the built-in model {@code config.model()}.
     */
    public static TrainingRun create(RunConfig config, NormVariantConfig variant, ModelFile modelFile, Path initFrom,
                                     boolean diagnostics, DataLocator.Splits data, Path out, PrintStream progress,
                                     boolean terminal, int logEvery, long checkpointEvery, Communicator comm,
                                     boolean syncBn) throws IOException {
        return new TrainingRun(config, variant, modelFile, initFrom, diagnostics, data, out, progress, terminal,
                logEvery, checkpointEvery, comm, syncBn);
    }

    private static ModelBuilder.Built buildModel(RunConfig config, NormVariantConfig variant, ModelFile modelFile,
                                                 int[] item, int classes) {
        SplittableRandom rng = new SplittableRandom(config.seed());
        if (modelFile == null) {
            if (item.length == 1) {
                item = new int[] {item[0], 1, 1}; // table features as 1x1 "images" of F channels: same values
            }
            ModelSpec base = ModelSpec.of(config.model(), config.norm(), config.activation());
            ModelSpec spec = new ModelSpec(config.model(), config.norm(), config.activation(),
                    config.width() > 0 ? config.width() : base.width(), item, classes);
            return ModelFactory.modelFile(spec).build(new ModelBuilder.Options(item, classes, rng, variant,
                    variant.batchNormFactory(config.norm())));
        }
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("norm", config.norm());
        vars.put("activation", config.activation());
        if (config.width() > 0) {
            vars.put("width", (long) config.width());
        }
        vars.put("classes", (long) classes);
        return modelFile.withVariables(vars).build(new ModelBuilder.Options(item, classes, rng, variant, null));
    }

    private static DataSet reshaped(DataSet set, ModelBuilder.Built built) {
        try {
            return set.withItemShape(built.input());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(built.file().source() + ": expected the data to fit the model's input "
                    + java.util.Arrays.toString(built.input()) + ", got items of "
                    + java.util.Arrays.toString(set.itemShape()), e);
        }
    }

    private static String floats(float[] v) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < v.length; k++) {
            b.append(k > 0 ? "," : "").append(v[k]);
        }
        return b.toString();
    }

    /** The report written next to the metrics ({@code report.html}); null on ranks other than 0 or without output. */
    public TrainingReport report() {
        return report;
    }

    /** The model as built, with its summary ({@link ModelBuilder.Built#summary()}). */
    public ModelBuilder.Built built() {
        return built;
    }

    /** The diagnostics' warnings (printed to standard error once each). */
    public WarningSink warnings() {
        return warnings;
    }

    /** The model file stored in {@code dir}'s checkpoint, or null for a checkpoint written before model files. */
    public static ModelFile storedModelFile(Path dir) throws IOException {
        String json = Checkpoint.metadata(dir.resolve(Checkpoint.FILE_NAME)).get(MODEL_FILE_KEY);
        return json == null ? null : ModelFile.parse(json, dir.resolve(Checkpoint.FILE_NAME) + " (model file)");
    }

    /** Reads the data for {@code config} as {@code options} say (CSV label, skipping, image size). */
    public static DataLocator.Splits loadData(RunConfig config, DataSource.Options options) throws IOException {
        return DataSource.load(config.data(), System.getenv(DataLocator.ENV), options);
    }

    /** The BatchNorm variant settings stored in {@code dir}'s checkpoint ({@link NormVariantConfig#DEFAULT} if none). */
    public static NormVariantConfig storedVariant(Path dir) throws IOException {
        return NormVariantConfig.fromMetadata(Checkpoint.metadata(dir.resolve(Checkpoint.FILE_NAME)));
    }

    public NormVariantConfig variant() {
        return variant;
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
        if (parallel != null) {
            parallel.broadcastInitialState(); // every rank read the checkpoint; make sure they agree exactly
        }
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
            if (report != null) {
                report.finish(model, null);
            }
            return null;
        }
        Trainer.Evaluation e = trainer.evaluate(test);
        if (out != null && comm.rank() == 0) {
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
        if (report != null) {
            report.finish(model, new double[] {e.accuracy(), e.loss()});
        }
        return e;
    }
}
