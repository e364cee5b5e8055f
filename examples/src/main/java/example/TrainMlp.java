package example;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.optim.Adam;
import io.github.batchnorm4j.optim.Optimizer;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a small MLP with BatchNorm (2 -> 64 -> BN -> ReLU -> 64 -> BN -> ReLU -> 3) to classify three
 * interleaved spirals generated here, then saves its parameters and running statistics as safetensors (PyTorch
 * {@code state_dict} names), loads them into a freshly built network and checks that it predicts the same logits.
 */
public final class TrainMlp {
    private static final int CLASSES = 3;

    public static void main(String[] args) throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        int perClass = 300;
        float[] xs = new float[CLASSES * perClass * 2];
        int[] labels = new int[CLASSES * perClass];
        spirals(rng, perClass, xs, labels);

        Sequential model = build(new SplittableRandom(1));
        Optimizer opt = new Adam(model.namedParameters(), 0.01);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        int batch = 64;
        int[] order = shuffled(rng, labels.length);
        for (int step = 1, cursor = 0; step <= 600; step++, cursor += batch) {
            if (cursor + batch > labels.length) {
                order = shuffled(rng, labels.length);
                cursor = 0;
            }
            float[] bx = new float[batch * 2];
            int[] by = new int[batch];
            for (int i = 0; i < batch; i++) {
                int s = order[cursor + i];
                bx[2 * i] = xs[2 * s];
                bx[2 * i + 1] = xs[2 * s + 1];
                by[i] = labels[s];
            }
            model.train();
            opt.zeroGrad();
            double l = loss.forward(model.forward(Tensor.of(bx, batch, 2)), by);
            model.backward(loss.backward());
            opt.step();
            if (step % 150 == 0) {
                System.out.printf("step %d: loss %.4f%n", step, l);
            }
        }

        model.eval();                                      // BatchNorm now uses its running statistics
        Tensor all = Tensor.of(xs, labels.length, 2);
        float[] logits = model.forward(all).toContiguousArray();
        double accuracy = accuracy(logits, labels);
        System.out.printf("training accuracy (eval mode): %.3f%n", accuracy);

        Path file = Files.createTempDirectory("bn4j-example").resolve("spirals.safetensors");
        save(model, file);
        Sequential reloaded = build(new SplittableRandom(99)); // different initial weights
        load(reloaded, file);
        reloaded.eval();
        float[] again = reloaded.forward(all).toContiguousArray();
        boolean same = Arrays.equals(logits, again);
        System.out.printf("saved %d tensors to %s (%d bytes); reloaded model gives the same logits: %b%n",
                SafeTensors.read(file).tensors().size(), file.getFileName(), Files.size(file), same);
        Files.delete(file);
        Files.delete(file.getParent());
        if (!same || accuracy < 0.9) {
            System.out.println("FAILED");
            System.exit(1);
        }
    }

    private static Sequential build(SplittableRandom rng) {
        return new Sequential(
                new Linear(2, 64, true, rng), new BatchNorm(64), new ReLU(),
                new Linear(64, 64, true, rng), new BatchNorm(64), new ReLU(),
                new Linear(64, CLASSES, true, rng));
    }

    /** Parameters, running statistics and batch counters under their dotted names ({@code 1.running_mean}). */
    private static void save(Module m, Path file) throws IOException {
        Map<String, SafeTensors.Entry> state = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> state.put(k, SafeTensors.Entry.f32(p.data(), p.value().shape())));
        m.namedBuffers().forEach((k, t) -> state.put(k, SafeTensors.Entry.f32(t.toContiguousArray(), t.shape())));
        m.namedLongBuffers().forEach((k, s) -> state.put(k, SafeTensors.Entry.i64(new long[] {s.get()})));
        SafeTensors.write(file, state, Map.of("example", "spirals"));
    }

    private static void load(Module m, Path file) throws IOException {
        Map<String, SafeTensors.Entry> state = SafeTensors.read(file).tensors();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            copy(state, e.getKey(), e.getValue().data());
        }
        for (Map.Entry<String, Tensor> e : m.namedBuffers().entrySet()) {
            copy(state, e.getKey(), e.getValue().data());
        }
        for (Map.Entry<String, LongState> e : m.namedLongBuffers().entrySet()) {
            e.getValue().set(entry(state, e.getKey()).toLongs()[0]);
        }
    }

    private static void copy(Map<String, SafeTensors.Entry> state, String name, float[] into) throws IOException {
        float[] values = entry(state, name).toFloats();
        if (values.length != into.length) {
            throw new IOException(name + ": expected " + into.length + " values, got " + values.length);
        }
        System.arraycopy(values, 0, into, 0, values.length);
    }

    private static SafeTensors.Entry entry(Map<String, SafeTensors.Entry> state, String name) throws IOException {
        SafeTensors.Entry e = state.get(name);
        if (e == null) {
            throw new IOException("missing tensor " + name);
        }
        return e;
    }

    /** Three spiral arms in the plane, one per class, with a little noise. */
    private static void spirals(SplittableRandom rng, int perClass, float[] xs, int[] labels) {
        for (int c = 0; c < CLASSES; c++) {
            for (int i = 0; i < perClass; i++) {
                int s = c * perClass + i;
                double r = (double) i / perClass;
                double angle = c * 2 * Math.PI / CLASSES + 4 * r + 0.2 * rng.nextGaussian();
                xs[2 * s] = (float) (r * Math.sin(angle));
                xs[2 * s + 1] = (float) (r * Math.cos(angle));
                labels[s] = c;
            }
        }
    }

    private static int[] shuffled(SplittableRandom rng, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static double accuracy(float[] logits, int[] labels) {
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int k = 1; k < CLASSES; k++) {
                if (logits[i * CLASSES + k] > logits[i * CLASSES + best]) {
                    best = k;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return (double) correct / labels.length;
    }
}
