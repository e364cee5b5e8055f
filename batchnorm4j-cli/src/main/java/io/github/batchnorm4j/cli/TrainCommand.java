package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.data.DataInfo;
import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.DataSource;
import io.github.batchnorm4j.diag.ActivationTracker;
import io.github.batchnorm4j.dist.Communicator;
import io.github.batchnorm4j.dist.CommunicatorException;
import io.github.batchnorm4j.dist.LocalCommunicator;
import io.github.batchnorm4j.dist.mpi.MpiCommunicator;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.models.ModelFile;
import io.github.batchnorm4j.train.Checkpoint;
import io.github.batchnorm4j.train.NormVariantConfig;
import io.github.batchnorm4j.train.RunConfig;
import io.github.batchnorm4j.train.Trainer;
import io.github.batchnorm4j.train.TrainingDivergedException;
import io.github.batchnorm4j.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bn4j train}: trains a model on Fashion-MNIST (or MNIST) with checkpoints, metrics and resume. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an MLP, CNN or small ResNet on Fashion-MNIST (or MNIST) IDX files.",
            "--out DIR receives model.safetensors (final weights and buffers under PyTorch keys), metrics.jsonl and"
                + " checkpoint.safetensors; --resume DIR continues that run bit-identically."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "mlp", description = "mlp | cnn | resnet (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--norm", defaultValue = "bn",
            description = "bn | none | ln | gn | brn (BatchRenorm) | ghost (GhostBatchNorm) (default: ${DEFAULT-VALUE})")
    String norm;

    @Option(names = "--ghost-batch-size", defaultValue = "32",
            description = "samples per virtual batch of --norm ghost (default: ${DEFAULT-VALUE})")
    int ghostBatchSize;

    @Option(names = "--rmax", defaultValue = "3:5000:40000",
            description = "BatchRenorm rmax: LIMIT, or LIMIT:START:END to relax from 1 (default: ${DEFAULT-VALUE})")
    String rmax;

    @Option(names = "--dmax", defaultValue = "5:5000:25000",
            description = "BatchRenorm dmax: LIMIT, or LIMIT:START:END to relax from 0 (default: ${DEFAULT-VALUE})")
    String dmax;

    @Option(names = "--brn-running-sigma", defaultValue = "variance",
            description = "BatchRenorm's running sigma: variance (average the variances, as BatchNorm) or sigma (average"
                    + " the batch sigmas, as the paper) (default: ${DEFAULT-VALUE})")
    String brnRunningSigma;

    @Option(names = "--freeze-bn", description = "freeze every BatchNorm (running statistics and affine) for"
            + " fine-tuning; needs --init-from")
    boolean freezeBn;

    @Option(names = "--init-from", description = "start from this model.safetensors (weights and buffers of the same"
            + " model, e.g. an earlier run's), for fine-tuning")
    Path initFrom;

    @Option(names = "--track", split = ",", description = "layers (dotted names, e.g. 9 or 3.bn1) whose activations"
            + " are recorded into activations.csv: input percentiles 15/50/85 of one unit, output and gradient"
            + " mean/std")
    List<String> track;

    @Option(names = "--track-unit", defaultValue = "0", description = "unit (feature or channel) whose input"
            + " percentiles --track records (default: ${DEFAULT-VALUE})")
    int trackUnit;

    @Option(names = "--track-every", defaultValue = "10", description = "record --track every N steps (default:"
            + " ${DEFAULT-VALUE})")
    long trackEvery;

    @Option(names = "--no-diagnostics", description = "do not print the BatchNorm diagnostics (small batches, BN"
            + " after ReLU, eval in train mode, invalid running statistics, momentum, zero-variance channels)")
    boolean noDiagnostics;

    @Option(names = "--activation", defaultValue = "relu", description = "relu | sigmoid (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--width", defaultValue = "0",
            description = "hidden units (mlp) or first-layer channels (cnn, resnet); 0: 100 / 32 / 16")
    int width;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd | adam | adamw (default: ${DEFAULT-VALUE})")
    String optimizer;

    @Option(names = "--lr", description = "learning rate (default: 0.05 for sgd, 0.001 for adam/adamw)")
    Double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum for SGD")
    boolean nesterov;

    @Option(names = "--weight-decay", defaultValue = "5e-4", description = "weight decay (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--decay-norm-and-bias",
            description = "also decay norm gamma/beta and biases (by default they are excluded)")
    boolean decayAll;

    @Option(names = "--schedule", defaultValue = "cosine",
            description = "constant | step | cosine (default: ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--warmup-steps", defaultValue = "100", description = "linear warm-up steps (default: ${DEFAULT-VALUE})")
    long warmupSteps;

    @Option(names = "--step-size", defaultValue = "1000", description = "steps between decays for --schedule step")
    long stepSize;

    @Option(names = "--gamma", defaultValue = "0.1", description = "decay factor for --schedule step")
    double gamma;

    @Option(names = "--batch-size", defaultValue = "64",
            description = "batch per step; with --distributed the per-rank batch (global = ranks x this, as PyTorch"
                    + " DDP) (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--accumulate", defaultValue = "1", description = "micro-batches of --batch-size per optimizer"
            + " step: the gradient of their mean loss, one BatchNorm running update with their merged statistics"
            + " (default: ${DEFAULT-VALUE})")
    int accumulate;

    @Option(names = "--epochs", defaultValue = "3", description = "epochs to train (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--steps", defaultValue = "0", description = "optimizer steps to train; overrides --epochs when > 0")
    long steps;

    @Option(names = "--seed", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--validation", defaultValue = "5000",
            description = "training items held out for validation: a count, or a fraction below 1 such as 0.1"
                    + " (a seeded, deterministic split) (default: ${DEFAULT-VALUE})")
    String validation;

    @Option(names = "--keep-last", description = "train on the last partial batch of each epoch (default: dropped)")
    boolean keepLast;

    @Option(names = "--data", description = "a folder with the IDX files, a CSV file (with --label) or a folder with"
            + " a subfolder of PNG/JPEG images per class (else $BN4J_DATA, else /usr/share/datasets/fashion-mnist"
            + " from Debian's dataset-fashion-mnist)")
    String data;

    @Option(names = "--model-file", description = "train the model this JSON file describes (PyTorch's module"
            + " names: linear, conv2d, batch_norm, relu, ...; see docs/train.md) instead of --model")
    Path modelFile;

    @Option(names = "--label", description = "with a CSV file as --data: the column holding the class")
    String label;

    @Option(names = "--skip-bad", description = "skip (and count) bad CSV rows and unreadable images instead of"
            + " stopping at the first")
    boolean skipBad;

    @Option(names = "--out", description = "output folder (default: runs/<model>-<norm>)")
    Path out;

    @Option(names = "--resume", description = "continue the run whose checkpoint is in this folder")
    Path resume;

    @Option(names = "--threads", description = "worker threads (default: all processors)")
    Integer threads;

    @Option(names = "--log-every", defaultValue = "50", description = "steps between metrics lines")
    int logEvery;

    @Option(names = "--checkpoint-every", defaultValue = "0",
            description = "extra checkpoint every N steps (always at epoch ends and the end)")
    long checkpointEvery;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    @Option(names = "--distributed", description = "data-parallel training, one rank per process of"
            + " 'mpirun -np N ./bn4j train --distributed ...' (Open MPI); rank 0 writes the outputs")
    boolean distributed;

    @Option(names = "--no-sync-bn", description = "with --distributed: keep per-rank BatchNorm statistics instead of"
            + " SyncBatchNorm over the global batch")
    boolean noSyncBn;

    @Option(names = "--dist-timeout", defaultValue = "300", description = "with --distributed: seconds one collective"
            + " may wait for the other ranks before this rank gives up (default: ${DEFAULT-VALUE})")
    long distTimeout;

    @Option(names = "--on-nonfinite", defaultValue = "stop", description = "what a step whose loss or gradients are"
            + " NaN or infinite does: stop (stop training, the last checkpoint intact) or skip (discard that step"
            + " exactly, count it, go on with the next batch) (default: ${DEFAULT-VALUE})")
    String onNonFinite;

    @Option(names = "--max-skips", defaultValue = "10", description = "with --on-nonfinite skip: stop at this many"
            + " skipped steps in a row (default: ${DEFAULT-VALUE})")
    int maxSkips;

    private Communicator comm = LocalCommunicator.INSTANCE;

    @Override
    public Integer call() {
        if (noSyncBn && !distributed) {
            System.err.println("bn4j train: Expected --no-sync-bn together with --distributed, got it alone");
            return 1;
        }
        if (distributed) {
            if (distTimeout <= 0) {
                System.err.println("bn4j train: Expected --dist-timeout > 0, got " + distTimeout);
                return 1;
            }
            comm = MpiCommunicator.world(Duration.ofSeconds(distTimeout));
            if (threads == null) {
                // Ranks on one host share its cores: by default each takes its share.
                String local = System.getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
                int perHost = local == null ? 1 : Math.max(1, Integer.parseInt(local));
                threads = Math.max(1, Runtime.getRuntime().availableProcessors() / perHost);
            }
        }
        int rc;
        try {
            rc = train();
        } catch (IOException | IllegalArgumentException | CommunicatorException e) {
            String msg = "bn4j train: " + (comm.size() > 1 ? "rank " + comm.rank() + ": " : "") + CliErrors.describe(e);
            if (comm.size() > 1) {
                comm.abort(msg, 1); // the other ranks would otherwise wait in their next collective
            }
            System.err.println(msg);
            return 1;
        }
        comm.close();
        return rc;
    }

    private static String baseName(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".json") ? n.substring(0, n.length() - 5) : n;
    }

    private boolean root() {
        return comm.rank() == 0;
    }

    private int train() throws IOException {
        TrainOptionChecks.check(this);
        if (threads != null) {
            WorkerPool.setThreads(threads);
        }
        RunConfig config;
        NormVariantConfig variant;
        Path dir;
        ModelFile file = null;
        DataSource.Options dataOptions;
        if (resume != null) {
            config = TrainingRun.storedConfig(resume);
            variant = TrainingRun.storedVariant(resume);
            var pr = spec.commandLine().getParseResult();
            if (pr.hasMatchedOption("--epochs") || pr.hasMatchedOption("--steps")) {
                config = config.withLength(epochs, steps);
            }
            if (pr.hasMatchedOption("--data")) {
                config = new RunConfig(config.model(), config.norm(), config.activation(), config.width(),
                        config.optimizer(), config.lr(), config.momentum(), config.nesterov(), config.weightDecay(),
                        config.noDecayNormBias(), config.schedule(), config.warmupSteps(), config.stepSize(),
                        config.gamma(), config.batchSize(), config.epochs(), config.steps(), config.seed(),
                        config.validation(), config.dropLast(), data, config.accumulate());
            }
            dir = out != null ? out : resume;
            file = TrainingRun.storedModelFile(resume);
            DataInfo known = DataInfo.fromMetadata(Checkpoint.metadata(resume.resolve(Checkpoint.FILE_NAME)));
            dataOptions = new DataSource.Options(known.label(), known.skipBad(), file == null ? null : file.input(),
                    known.classes() == null ? null : known);
            if (!dir.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("Expected --out to be the --resume folder " + resume + " (a run"
                        + " continues in place), got " + out);
            }
        } else {
            double rate = lr != null ? lr : optimizer.equals("sgd") ? 0.05 : 0.001;
            if (modelFile != null) {
                if (spec.commandLine().getParseResult().hasMatchedOption("--model")) {
                    throw new IllegalArgumentException("Expected --model or --model-file, got both");
                }
                file = ModelFile.read(modelFile);
            }
            dataOptions = new DataSource.Options(label, skipBad, file == null ? null : file.input(), null);
            String modelName = file == null ? model : RunConfig.MODEL_FILE;
            // The data decide what a fraction of them is; RunConfig stores the count.
            config = new RunConfig(modelName, norm, activation, width, optimizer, rate, momentum, nesterov, weightDecay,
                    !decayAll, schedule, warmupSteps, stepSize, gamma, batchSize, epochs, steps, seed, 0,
                    !keepLast, data, accumulate);
            dir = out != null ? out : Path.of("runs", (file == null ? model : baseName(modelFile)) + "-" + norm);
            variant = new NormVariantConfig(ghostBatchSize, NormVariantConfig.parseSchedule("--rmax", rmax, 1),
                    NormVariantConfig.parseSchedule("--dmax", dmax, 0), freezeBn,
                    NormVariantConfig.parseRunningSigma(brnRunningSigma));
            if (freezeBn && !List.of("bn", "brn", "ghost").contains(norm)) {
                throw new IllegalArgumentException("Expected --norm bn, brn or ghost with --freeze-bn, got --norm "
                        + norm);
            }
            if (freezeBn && initFrom == null) {
                throw new IllegalArgumentException("Expected --init-from FILE with --freeze-bn (frozen statistics"
                        + " must come from a trained model), got none");
            }
        }
        Trainer.NonFinitePolicy policy = switch (onNonFinite) {
            case "stop" -> Trainer.NonFinitePolicy.STOP;
            case "skip" -> Trainer.NonFinitePolicy.SKIP;
            default -> throw new IllegalArgumentException("Expected --on-nonfinite stop or skip, got '" + onNonFinite
                    + "'");
        };
        if (maxSkips < 1) {
            throw new IllegalArgumentException("Expected --max-skips >= 1, got " + maxSkips);
        }
        DataLocator.Splits splits = TrainingRun.loadData(config, dataOptions);
        if (resume == null) {
            // The default count shrinks to fit a small data set; a count asked for explicitly must fit.
            if (spec.commandLine().getParseResult().hasMatchedOption("--validation")
                    && Double.parseDouble(validation.trim()) >= Math.max(1, splits.train().size())) {
                throw new IllegalArgumentException("Expected --validation below the " + splits.train().size()
                        + " training items, got " + validation);
            }
            config = config.withValidation(DataSource.validationCount(validation, splits.train().size()));
        }
        if (splits.info().skipped() > 0 && root()) {
            System.err.println("Skipped " + splits.info().skipped() + " bad " + (splits.info().kind().equals("csv")
                    ? "rows" : "images") + " of " + splits.dir() + " (--skip-bad)");
        }
        boolean terminal = System.console() != null;
        // On --resume the checkpoint holds the weights: --init-from is only read for a fresh run.
        TrainingRun run = TrainingRun.create(config, variant, file, resume != null ? null : initFrom, !noDiagnostics,
                splits, dir, noProgress ? null : System.err, terminal, logEvery, checkpointEvery, comm, !noSyncBn);
        // After the model is built (a model file's faults come first), before any training step.
        TrainOptionChecks.afterData(splits.train().size(), config.validation(), config.batchSize(),
                config.dropLast());
        run.trainer().onNonFinite(policy, maxSkips);
        ActivationTracker tracker = null;
        if (track != null && !track.isEmpty()) {
            tracker = new ActivationTracker(track, trackUnit, trackEvery);
            try {
                tracker.checkLayers(run.model());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--track: " + e.getMessage(), e);
            }
            if (root()) {
                run.trainer().addCallback(tracker);
                if (run.report() != null) {
                    run.report().useTracker(tracker);
                }
            }
        }
        if (root()) {
            System.err.print(run.built().summary());
        }
        if (resume != null) {
            run.resume();
            if (root()) {
                System.err.println("Resuming " + dir + " at step " + run.trainer().step());
            }
        }
        if (comm.size() > 1 && root()) {
            System.err.printf(Locale.ROOT, "Data-parallel on %d ranks: batch %d per rank, global batch %d, %s%n",
                    comm.size(), config.batchSize(), config.batchSize() * comm.size(),
                    noSyncBn ? "per-rank BatchNorm statistics" : "SyncBatchNorm");
        }
        if (root()) {
            int items = splits.train().size() - Math.min(config.validation(), splits.train().size() - 1);
            String batch = config.accumulate() == 1 ? Integer.toString(config.batchSize())
                    : config.batchSize() + " x " + config.accumulate() + " accumulated";
            System.err.printf(Locale.ROOT, "Training %s with %s (lr %s) on %s: %d training items, batch %s,"
                            + " %d steps, %d threads%n", file == null ? config.model() + "/" + config.norm() + "/"
                            + config.activation() : file.source(),
                    config.optimizer(), config.lr(), splits.dir(), items, batch,
                    run.trainer().totalSteps(), WorkerPool.threads());
        }
        Trainer.Evaluation val;
        try {
            val = run.trainer().fit();
        } catch (TrainingDivergedException e) {
            System.err.println();
            System.err.println("bn4j train: " + e.getMessage()
                    + (policy == Trainer.NonFinitePolicy.SKIP ? " (--max-skips " + maxSkips + ")" : ""));
            return 2;
        } finally {
            if (tracker != null && root()) {
                tracker.writeCsv(dir.resolve("activations.csv")); // also for a diverged run: it shows how
            }
        }
        Trainer.Evaluation test = run.evaluateTest();
        if (!root()) {
            return 0;
        }
        if (run.trainer().skippedSteps() > 0) {
            System.out.println("skipped " + run.trainer().skippedSteps() + " steps with a NaN or infinite loss or"
                    + " gradient (--on-nonfinite skip)");
        }
        if (val != null) {
            System.out.printf(Locale.ROOT, "validation accuracy %.4f loss %.4f (%d items)%n", val.accuracy(),
                    val.loss(), val.count());
        }
        if (test != null) {
            System.out.printf(Locale.ROOT, "test accuracy %.4f loss %.4f (%d items)%n", test.accuracy(), test.loss(),
                    test.count());
        }
        System.out.println("wrote " + dir.resolve("model.safetensors") + ", " + dir.resolve("metrics.jsonl") + ", "
                + dir.resolve("checkpoint.safetensors") + ", " + dir.resolve("report.html"));
        return 0;
    }
}
