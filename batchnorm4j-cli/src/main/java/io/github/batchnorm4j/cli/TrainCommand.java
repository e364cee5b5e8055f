package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.train.RunConfig;
import io.github.batchnorm4j.train.Trainer;
import io.github.batchnorm4j.train.TrainingDivergedException;
import io.github.batchnorm4j.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Path;
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

    @Option(names = "--norm", defaultValue = "bn", description = "bn | none | ln | gn (default: ${DEFAULT-VALUE})")
    String norm;

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

    @Option(names = "--batch-size", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--epochs", defaultValue = "3", description = "epochs to train (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--steps", defaultValue = "0", description = "optimizer steps to train; overrides --epochs when > 0")
    long steps;

    @Option(names = "--seed", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--validation", defaultValue = "5000",
            description = "training items held out for validation (default: ${DEFAULT-VALUE})")
    int validation;

    @Option(names = "--keep-last", description = "train on the last partial batch of each epoch (default: dropped)")
    boolean keepLast;

    @Option(names = "--data", description = "folder with the IDX files (else $BN4J_DATA, else "
            + "/usr/share/datasets/fashion-mnist from Debian's dataset-fashion-mnist)")
    String data;

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

    @Override
    public Integer call() {
        try {
            return train();
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("bn4j train: " + e.getMessage());
            return 1;
        }
    }

    private int train() throws IOException {
        if (threads != null) {
            WorkerPool.setThreads(threads);
        }
        RunConfig config;
        Path dir;
        if (resume != null) {
            config = TrainingRun.storedConfig(resume);
            var pr = spec.commandLine().getParseResult();
            if (pr.hasMatchedOption("--epochs") || pr.hasMatchedOption("--steps")) {
                config = config.withLength(epochs, steps);
            }
            if (pr.hasMatchedOption("--data")) {
                config = new RunConfig(config.model(), config.norm(), config.activation(), config.width(),
                        config.optimizer(), config.lr(), config.momentum(), config.nesterov(), config.weightDecay(),
                        config.noDecayNormBias(), config.schedule(), config.warmupSteps(), config.stepSize(),
                        config.gamma(), config.batchSize(), config.epochs(), config.steps(), config.seed(),
                        config.validation(), config.dropLast(), data);
            }
            dir = out != null ? out : resume;
            if (!dir.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("Expected --out to be the --resume folder " + resume + " (a run"
                        + " continues in place), got " + out);
            }
        } else {
            double rate = lr != null ? lr : optimizer.equals("sgd") ? 0.05 : 0.001;
            config = new RunConfig(model, norm, activation, width, optimizer, rate, momentum, nesterov, weightDecay,
                    !decayAll, schedule, warmupSteps, stepSize, gamma, batchSize, epochs, steps, seed, validation,
                    !keepLast, data);
            dir = out != null ? out : Path.of("runs", model + "-" + norm);
        }
        DataLocator.Splits splits = TrainingRun.loadData(config);
        boolean terminal = System.console() != null;
        TrainingRun run = TrainingRun.create(config, splits, dir, noProgress ? null : System.err, terminal, logEvery,
                checkpointEvery);
        if (resume != null) {
            run.resume();
            System.err.println("Resuming " + dir + " at step " + run.trainer().step());
        }
        System.err.printf(Locale.ROOT, "Training %s/%s/%s with %s (lr %s) on %s: %d training items, batch %d, %d steps,"
                        + " %d threads%n", config.model(), config.norm(), config.activation(), config.optimizer(),
                config.lr(), splits.dir(), splits.train().size() - Math.min(config.validation(),
                        splits.train().size() - 1), config.batchSize(), run.trainer().totalSteps(), WorkerPool.threads());
        Trainer.Evaluation val;
        try {
            val = run.trainer().fit();
        } catch (TrainingDivergedException e) {
            System.err.println();
            System.err.println("bn4j train: " + e.getMessage());
            return 2;
        }
        if (val != null) {
            System.out.printf(Locale.ROOT, "validation accuracy %.4f loss %.4f (%d items)%n", val.accuracy(),
                    val.loss(), val.count());
        }
        Trainer.Evaluation test = run.evaluateTest();
        if (test != null) {
            System.out.printf(Locale.ROOT, "test accuracy %.4f loss %.4f (%d items)%n", test.accuracy(), test.loss(),
                    test.count());
        }
        System.out.println("wrote " + dir.resolve("model.safetensors") + ", " + dir.resolve("metrics.jsonl") + ", "
                + dir.resolve("checkpoint.safetensors"));
        return 0;
    }
}
