package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.infer.Standardize;
import io.github.batchnorm4j.models.Models;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.onnx.OnnxExport;
import io.github.batchnorm4j.train.TrainedModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bn4j export}: writes a trained model as a standard ONNX file (opset 13), optionally BN-folded. */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a trained model to ONNX (IR 7, opset 13) in inference form.",
            "The graph input 'input' [N, C, H, W] takes images normalised as (x/255 - mean) / std with the mean and"
                + " std printed here (stored in the checkpoint); the output 'output' holds the logits (or"
                + " probabilities with --softmax)."})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true,
            description = "model.safetensors or checkpoint.safetensors written by bn4j train, or its folder")
    Path checkpoint;

    @Option(names = "--onnx", required = true, description = "the ONNX file to write (atomically)")
    Path onnx;

    @Option(names = "--fold", description = "fold BatchNorm into the preceding Linear/Conv2d layers")
    boolean fold;

    @Option(names = "--softmax", description = "append Softmax so the output is class probabilities")
    boolean softmax;

    @Option(names = "--input", defaultValue = "1x28x28",
            description = "for checkpoints without a stored model file: the input shape CxHxW the model was trained"
                    + " on (default: ${DEFAULT-VALUE})")
    String input;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static String shape(int[] s) {
        return java.util.Arrays.stream(s).mapToObj(String::valueOf).collect(java.util.stream.Collectors.joining("x"));
    }

    @Override
    public Integer call() {
        try {
            int[] given = TrainedModel.parseShape(input);
            TrainedModel saved = Models.load(checkpoint, given);
            if (spec.commandLine().getParseResult().hasMatchedOption("--input")
                    && !java.util.Arrays.equals(given, saved.input())) {
                // A stored model knows its input: a different --input is a mistake, not something to ignore.
                throw new IllegalArgumentException("Expected --input " + shape(saved.input()) + " (the input of the "
                        + "model stored in " + checkpoint + "), got --input " + input);
            }
            Module model = fold ? Fold.fold(saved.model()) : saved.model();
            if (saved.featureMean() != null) {
                // A table's standardisation goes into the graph: the ONNX model takes the raw feature columns.
                model = new Sequential(Standardize.layer(saved.featureMean(), saved.featureStd()), model);
            }
            String version = Main.class.getPackage().getImplementationVersion();
            OnnxExport.write(model, saved.input(), softmax, version == null ? "dev" : version, onnx);
            String shape = java.util.Arrays.stream(saved.input()).mapToObj(String::valueOf)
                    .collect(java.util.stream.Collectors.joining(","));
            String inputs = saved.featureMean() != null ? "inputs are the raw columns " + saved.data().columns()
                    + " (standardised inside the graph)" : String.format(Locale.ROOT, "normalise inputs as (x/255 - %s)"
                    + " / %s", saved.mean(), saved.std());
            System.out.printf(Locale.ROOT, "wrote %s (%s%s, input [N, %s], output [N, %d]%s); %s%n", onnx,
                    saved.description(), fold ? ", BN folded" : "", shape, saved.classes(),
                    softmax ? ", softmax" : "", inputs);
            if (saved.data().classes() != null) {
                System.out.println("classes (output order): " + String.join(", ", saved.data().classes()));
            }
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("bn4j export: " + CliErrors.describe(e));
            return 1;
        }
    }
}
