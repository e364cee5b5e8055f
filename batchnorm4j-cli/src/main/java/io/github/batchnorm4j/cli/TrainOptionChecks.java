package io.github.batchnorm4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The checks of {@code bn4j train}'s options that can be made before anything is read or written, each naming the
 * option, what it expects and what it got. The library checks the same values again (with its own wording); these
 * exist so that a user sees the option's name and gets the answer before the data is loaded.
 */
final class TrainOptionChecks {
    private TrainOptionChecks() {}

    static void check(TrainCommand c) {
        boolean fresh = c.resume == null;
        if (fresh) {
            oneOf("--model", c.model, List.of("mlp", "cnn", "resnet"));
            oneOf("--norm", c.norm, List.of("bn", "none", "ln", "gn", "brn", "ghost"));
            oneOf("--activation", c.activation, List.of("relu", "sigmoid"));
            oneOf("--optimizer", c.optimizer, List.of("sgd", "adam", "adamw"));
            oneOf("--schedule", c.schedule, List.of("constant", "step", "cosine"));
            if (c.lr != null) {
                expect(c.lr > 0 && Double.isFinite(c.lr), "--lr > 0", c.lr);
            }
            expect(c.momentum >= 0 && c.momentum < 1, "--momentum in [0, 1)", c.momentum);
            expect(c.weightDecay >= 0 && Double.isFinite(c.weightDecay), "--weight-decay >= 0", c.weightDecay);
            expect(c.batchSize > 0, "--batch-size > 0", c.batchSize);
            io.github.batchnorm4j.data.DataSource.validationCount(c.validation, Integer.MAX_VALUE); // count or fraction
            expect(c.width >= 0, "--width >= 0 (0: the model's default)", c.width);
            expect(c.warmupSteps >= 0, "--warmup-steps >= 0", c.warmupSteps);
            expect(c.stepSize > 0, "--step-size > 0", c.stepSize);
            expect(c.gamma > 0 && Double.isFinite(c.gamma), "--gamma > 0", c.gamma);
            expect(c.ghostBatchSize > 0, "--ghost-batch-size > 0", c.ghostBatchSize);
            expect(c.epochs > 0 || c.steps > 0, "--epochs > 0 or --steps > 0", c.epochs + ", " + c.steps);
        }
        expect(c.epochs >= 0, "--epochs >= 0", c.epochs);
        expect(c.steps >= 0, "--steps >= 0 (0: use --epochs)", c.steps);
        if (c.threads != null) {
            expect(c.threads >= 1, "--threads >= 1", c.threads);
        }
        expect(c.logEvery > 0, "--log-every > 0", c.logEvery);
        expect(c.checkpointEvery >= 0, "--checkpoint-every >= 0 (0: only at epoch ends and the end)",
                c.checkpointEvery);
        expect(c.trackEvery > 0, "--track-every > 0", c.trackEvery);
        expect(c.trackUnit >= 0, "--track-unit >= 0", c.trackUnit);
        oneOf("--on-nonfinite", c.onNonFinite, List.of("stop", "skip"));
        expect(c.maxSkips >= 1, "--max-skips >= 1", c.maxSkips);
        notAFile("--out", c.out);
        notAFile("--resume", c.resume);
        if (c.initFrom != null && Files.isDirectory(c.initFrom)) {
            throw new IllegalArgumentException("Expected --init-from to be a model.safetensors file, got the folder "
                    + c.initFrom);
        }
    }

    /** Checks that need the data: the validation split and a full batch must fit in the training items. */
    static void afterData(int trainItems, int validation, int batchSize, boolean dropLast) {
        if (validation >= trainItems) {
            throw new IllegalArgumentException("Expected --validation below the " + trainItems + " training items, got "
                    + validation);
        }
        if (dropLast && trainItems - validation < batchSize) {
            throw new IllegalArgumentException("Expected --batch-size at most the " + (trainItems - validation)
                    + " training items left after --validation " + validation + " (or --keep-last), got " + batchSize);
        }
    }

    private static void oneOf(String option, String value, List<String> allowed) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException("Expected " + option + " " + String.join(" | ", allowed) + ", got '"
                    + value + "'");
        }
    }

    private static void expect(boolean ok, String expected, Object got) {
        if (!ok) {
            throw new IllegalArgumentException("Expected " + expected + ", got " + got);
        }
    }

    private static void notAFile(String option, Path p) {
        if (p != null && Files.exists(p) && !Files.isDirectory(p)) {
            throw new IllegalArgumentException("Expected " + option + " to be a folder, got the file " + p);
        }
    }
}
