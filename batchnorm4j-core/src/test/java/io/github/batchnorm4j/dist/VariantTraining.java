package io.github.batchnorm4j.dist;

import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.models.ModelFactory;
import io.github.batchnorm4j.models.ModelSpec;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.nn.norm.RenormSchedule;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * Data-parallel training of the project's real models ({@code mlp}, {@code cnn} from {@link ModelFactory}) with
 * a BatchNorm variant ({@code bn}, {@code brn}, {@code brn-sigma}, {@code ghost}), used to check that a group of
 * ranks equals one process with the global batch. Each step has a fresh synthetic global batch (1x8x8 images,
 * 4 classes); rank r trains on rows {@code [Σ_{q<r} split[q], + split[r])} of it (any split, also empty ones),
 * cross-entropy over its rows scaled to its share of the global mean, {@link DataParallel#sumGradients}, and plain
 * SGD.
 * {@link #train} with a {@link LocalCommunicator} and the split {@code {N}} is the single-process reference.
 */
public final class VariantTraining {
    private static final int CLASSES = 4;
    private static final int[] ITEM = {1, 8, 8};

    private VariantTraining() {}

    static IntFunction<Module> factory(String norm) {
        return switch (norm) {
            case "bn" -> BatchNorm::new;
            // Limits that clip r and d from the first step on, with the running statistics still at their init.
            case "brn" -> c -> new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(1.5),
                    RenormSchedule.constant(0.5));
            case "brn-sigma" -> c -> new BatchRenorm(c, NormOptions.BATCH_NORM, RenormSchedule.constant(1.5),
                    RenormSchedule.constant(0.5), BatchRenorm.RunningSigma.SIGMA);
            case "ghost" -> c -> new GhostBatchNorm(c, 4);
            default -> throw new IllegalArgumentException("Expected bn, brn, brn-sigma or ghost, got " + norm);
        };
    }

    /** Model {@code model} with norm layers {@code norm}, initialised from {@code seed}. */
    public static Module model(String model, String norm, long seed) {
        String kind = norm.startsWith("brn") ? "brn" : norm;
        ModelSpec spec = new ModelSpec(model, kind, "relu", model.equals("mlp") ? 12 : 4, ITEM, CLASSES);
        return ModelFactory.build(spec, new SplittableRandom(seed), factory(norm));
    }

    /**
     * {@code steps} SGD steps (lr 0.1) on this rank's rows of global batches of {@code sum(split)} samples; returns
     * every parameter, buffer and {@code num_batches_tracked} of the final model, concatenated in state order.
     */
    public static float[] train(Communicator comm, String model, String norm, int[] split, int steps) {
        Module net = model(model, norm, 5 + 31L * comm.rank()); // different inits: the broadcast must fix them
        if (comm.size() > 1) {
            SyncBatchNorm.convert(net, comm);
        }
        DataParallel dp = new DataParallel(net, comm);
        dp.broadcastInitialState();
        int total = 0;
        int from = 0;
        for (int r = 0; r < split.length; r++) {
            from += r < comm.rank() ? split[r] : 0;
            total += split[r];
        }
        int rows = split[comm.rank()];
        int per = ITEM[0] * ITEM[1] * ITEM[2];
        CrossEntropyLoss loss = new CrossEntropyLoss();
        List<Parameter> params = new ArrayList<>(net.namedParameters().values());
        net.train();
        for (int step = 0; step < steps; step++) {
            SplittableRandom rng = new SplittableRandom(1000 + step);
            float[] x = new float[total * per];
            int[] labels = new int[total];
            for (int i = 0; i < total; i++) {
                labels[i] = rng.nextInt(CLASSES);
                for (int j = 0; j < per; j++) {
                    x[i * per + j] = (float) (rng.nextGaussian() + 0.3 * labels[i] * (j % 3 - 1));
                }
            }
            float[] mine = java.util.Arrays.copyOfRange(x, from * per, (from + rows) * per);
            int[] myLabels = java.util.Arrays.copyOfRange(labels, from, from + rows);
            net.zeroGrad();
            Tensor logits = net.forward(Tensor.of(mine, rows, ITEM[0], ITEM[1], ITEM[2]));
            loss.forward(logits, myLabels);
            // This rank's share of the global mean loss: its local mean times rows / total, before the backward.
            Tensor dLogits = loss.backward();
            float share = (float) ((double) rows / total);
            for (int i = 0; i < dLogits.data().length; i++) {
                dLogits.data()[i] *= share;
            }
            net.backward(dLogits);
            dp.sumGradients();
            for (Parameter p : params) {
                float[] w = p.data();
                float[] g = p.grad().data();
                for (int i = 0; i < w.length; i++) {
                    w[i] -= 0.1f * g[i];
                }
            }
        }
        return state(net);
    }

    static float[] state(Module net) {
        List<float[]> parts = new ArrayList<>();
        net.namedParameters().values().forEach(p -> parts.add(p.data()));
        net.namedBuffers().values().forEach(t -> parts.add(t.data()));
        List<LongState> longs = new ArrayList<>(net.namedLongBuffers().values());
        int n = parts.stream().mapToInt(a -> a.length).sum();
        float[] out = new float[n + longs.size()];
        int o = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        for (LongState s : longs) {
            out[o++] = s.get();
        }
        return out;
    }

    /**
     * Largest difference relative to the reference's scale: {@code max |a - b| / max(max |a|, 1e-3)} (infinite
     * when the lengths differ). Relative to the whole state's scale, so that entries near zero do not dominate.
     */
    public static double relDiff(float[] expected, float[] got) {
        if (expected.length != got.length) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = 1e-3;
        double d = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            d = Math.max(d, Math.abs((double) expected[i] - got[i]));
        }
        return d / scale;
    }
}
