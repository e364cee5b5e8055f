package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.data.DataInfo;
import io.github.batchnorm4j.data.DataLoader;
import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.DataSet;
import io.github.batchnorm4j.data.DataSource;
import io.github.batchnorm4j.infer.Predictor;
import io.github.batchnorm4j.infer.PreciseBN;
import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.models.Models;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainedModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bn4j predict}: evaluates a trained model (always in eval mode), optionally folded or PreciseBN-recalibrated. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a trained model in eval mode: accuracy and confusion matrix, or the logits as CSV.",
            "--fold runs the BN-folded model; --precise-bn K first recalibrates the BN statistics exactly over K"
                + " training batches."})
public final class PredictCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true,
            description = "model.safetensors or checkpoint.safetensors written by bn4j train, or its folder")
    Path checkpoint;

    @Option(names = "--data", description = "a folder with the IDX files, a CSV file or a folder of class"
            + " subfolders of images, read as the model was trained (else $BN4J_DATA, else"
            + " /usr/share/datasets/fashion-mnist)")
    String data;

    @Option(names = "--split", defaultValue = "test", description = "test | train (default: ${DEFAULT-VALUE}); a CSV"
            + " file or an image folder without train/ and test/ is evaluated whole")
    String split;

    @Option(names = "--skip-bad", description = "skip (and count) bad CSV rows and unreadable images")
    boolean skipBad;

    @Option(names = "--fold", description = "fold BatchNorm into the preceding Linear/Conv2d layers first")
    boolean fold;

    @Option(names = "--precise-bn", defaultValue = "0",
            description = "recalibrate BN running statistics over this many training batches first (0: off)")
    int preciseBn;

    @Option(names = "--batch-size", defaultValue = "500", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--logits", description = "write label and logits of every item to this CSV file instead")
    Path logits;

    @Option(names = "--threads", description = "worker threads (default: all processors)")
    Integer threads;

    @Override
    public Integer call() {
        try {
            return predict();
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("bn4j predict: " + CliErrors.describe(e));
            return 1;
        }
    }

    private int predict() throws IOException {
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("Expected --threads >= 1, got " + threads);
            }
            WorkerPool.setThreads(threads);
        }
        if (!split.equals("test") && !split.equals("train")) {
            throw new IllegalArgumentException("Expected --split test or train, got " + split);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("Expected --batch-size > 0, got " + batchSize);
        }
        if (preciseBn < 0) {
            throw new IllegalArgumentException("Expected --precise-bn >= 0, got " + preciseBn);
        }
        Map<String, String> meta = TrainedModel.metadata(checkpoint);
        DataInfo known = DataInfo.fromMetadata(meta);
        DataLocator.Splits splits = DataSource.load(data, System.getenv(DataLocator.ENV), new DataSource.Options(
                null, skipBad, TrainedModel.storedInput(meta), known.classes() == null ? null : known));
        boolean whole = splits.test() == null;
        DataSet raw = split.equals("test") && !whole ? splits.test() : splits.train();
        if (splits.info().skipped() > 0) {
            System.err.println("Skipped " + splits.info().skipped() + " bad items of " + splits.dir() + " (--skip-bad)");
        }
        TrainedModel saved = Models.load(checkpoint, raw.itemShape());
        DataSet set = saved.prepare(raw);
        Module model = saved.model();
        if (set.numClasses() > saved.classes()) {
            throw new IllegalArgumentException("Expected data with at most " + saved.classes() + " classes (the"
                    + " model's outputs), got " + set.numClasses());
        }
        if (preciseBn > 0) {
            DataLoader calib = new DataLoader(saved.prepare(splits.train()), batchSize, false, false, 0, saved.mean(),
                    saved.std());
            PreciseBN.Report r = PreciseBN.recalibrate(model, () -> inputs(calib), preciseBn);
            System.err.printf(Locale.ROOT, "PreciseBN: %d BN layers recalibrated over %d training batches%n",
                    r.layers().size(), r.batches());
        }
        // Folded: the serving plan (BN folded, Conv2d + ReLU fused); else the eval-mode model as trained. Either
        // way each batch's logits are read before the next batch, so buffers are reused.
        Predictor predictor = fold ? Predictor.of(model) : null;
        model.eval().reuseBuffers(true);
        DataLoader loader = new DataLoader(set, batchSize, false, false, 0, saved.mean(), saved.std());
        int classes = saved.classes();
        long[][] confusion = new long[classes][classes];
        StringBuilder rows = logits == null ? null : new StringBuilder();
        if (rows != null) {
            rows.append("label");
            for (int k = 0; k < classes; k++) {
                rows.append(",logit").append(k);
            }
            rows.append('\n');
        }
        for (int b = 0; b < loader.batchesPerEpoch(); b++) {
            DataLoader.Batch batch = loader.batch(0, b);
            Tensor out = predictor != null ? predictor.predict(batch.input()) : model.forward(batch.input());
            float[] z = out.toContiguousArray();
            for (int i = 0; i < batch.size(); i++) {
                int best = 0;
                for (int k = 1; k < classes; k++) {
                    if (z[i * classes + k] > z[i * classes + best]) {
                        best = k;
                    }
                }
                confusion[batch.labels()[i]][best]++;
                if (rows != null) {
                    rows.append(batch.labels()[i]);
                    for (int k = 0; k < classes; k++) {
                        rows.append(',').append(z[i * classes + k]);
                    }
                    rows.append('\n');
                }
            }
        }
        if (rows != null) {
            byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(logits, bytes);
            System.out.println("wrote " + set.size() + " rows of logits to " + logits);
            return 0;
        }
        long correct = 0;
        for (int k = 0; k < classes; k++) {
            correct += confusion[k][k];
        }
        System.out.printf(Locale.ROOT, "%s (%s%s), %s: %d items, eval mode%n", saved.file(), saved.description(),
                fold ? ", folded" : "", whole ? "all of " + splits.dir() : split + " split", set.size());
        System.out.printf(Locale.ROOT, "accuracy %.4f (%d/%d)%n", (double) correct / Math.max(1, set.size()), correct,
                set.size());
        System.out.println(confusionTable(confusion));
        return 0;
    }

    private static Iterator<Tensor> inputs(DataLoader loader) {
        return new Iterator<>() {
            int b;

            @Override
            public boolean hasNext() {
                return b < loader.batchesPerEpoch();
            }

            @Override
            public Tensor next() {
                return loader.batch(0, b++).input();
            }
        };
    }

    /** Rows: true class; columns: predicted class. */
    static String confusionTable(long[][] m) {
        StringBuilder s = new StringBuilder("confusion matrix (rows: true class, columns: predicted class)\n");
        int width = 5;
        for (long[] row : m) {
            for (long v : row) {
                width = Math.max(width, Long.toString(v).length() + 1);
            }
        }
        s.append(" ".repeat(6));
        for (int k = 0; k < m.length; k++) {
            s.append(String.format(Locale.ROOT, "%" + width + "d", k));
        }
        for (int t = 0; t < m.length; t++) {
            s.append('\n').append(String.format(Locale.ROOT, "%5d ", t));
            for (long v : m[t]) {
                s.append(String.format(Locale.ROOT, "%" + width + "d", v));
            }
        }
        return s.toString();
    }
}
