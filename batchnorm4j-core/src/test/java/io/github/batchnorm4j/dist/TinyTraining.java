package io.github.batchnorm4j.dist;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small, self-contained data-parallel training run used to check worker-count invariance: a model
 * Dense(6, 8) - BatchNorm(8) - Dense(8, 3) with naive double-accumulated loops, the mean squared error over the
 * batch, plain SGD, a synthetic data set and a seeded epoch permutation. {@link #train} with a
 * {@link LocalCommunicator} and batch {@code N*b} is the single-process reference for N ranks with batch b.
 */
public final class TinyTraining {
    public static final int IN = 6;
    public static final int HIDDEN = 8;
    public static final int OUT = 3;

    private TinyTraining() {}

    /** y = x W^T + b over rows; W [out, in] initialised from {@code seed} (each rank differently: the broadcast fixes it). */
    static final class Dense extends Module {
        final Parameter w;
        final Parameter b;
        final int in;
        final int out;
        Tensor lastX;

        Dense(int in, int out, long seed) {
            this.in = in;
            this.out = out;
            float[] wv = new float[out * in];
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (float) r.nextDouble(-0.5, 0.5);
            }
            w = registerParameter("weight", Tensor.of(wv, out, in));
            b = registerParameter("bias", Tensor.zeros(out));
        }

        @Override
        public Tensor forward(Tensor x) {
            lastX = x;
            int n = x.dim(0);
            float[] y = new float[n * out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double s = b.data()[o];
                    for (int k = 0; k < in; k++) {
                        s += (double) x.data()[i * in + k] * w.data()[o * in + k];
                    }
                    y[i * out + o] = (float) s;
                }
            }
            return Tensor.of(y, n, out);
        }

        @Override
        public Tensor backward(Tensor dy) {
            int n = lastX.dim(0);
            float[] dx = new float[n * in];
            float[] gw = w.grad().data();
            float[] gb = b.grad().data();
            for (int o = 0; o < out; o++) {
                double sb = 0;
                for (int i = 0; i < n; i++) {
                    sb += dy.data()[i * out + o];
                }
                gb[o] += (float) sb;
                for (int k = 0; k < in; k++) {
                    double s = 0;
                    for (int i = 0; i < n; i++) {
                        s += (double) dy.data()[i * out + o] * lastX.data()[i * in + k];
                    }
                    gw[o * in + k] += (float) s;
                }
            }
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < in; k++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += (double) dy.data()[i * out + o] * w.data()[o * in + k];
                    }
                    dx[i * in + k] = (float) s;
                }
            }
            return Tensor.of(dx, n, in);
        }
    }

    static final class Net extends Module {
        final Dense d1;
        final BatchNorm bn;
        final Dense d2;

        Net(long seed) {
            d1 = registerModule("0", new Dense(IN, HIDDEN, seed));
            bn = registerModule("1", new BatchNorm(HIDDEN));
            d2 = registerModule("2", new Dense(HIDDEN, OUT, seed + 1));
        }

        @Override
        public Tensor forward(Tensor x) {
            return d2.forward(bn.forward(d1.forward(x)));
        }

        @Override
        public Tensor backward(Tensor dy) {
            return d1.backward(bn.backward(d2.backward(dy)));
        }
    }

    /** Synthetic regression data: item i has features {@code x[i]} and targets {@code t[i]}, from a fixed seed. */
    static float[][] data(int n) {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = new float[n * IN];
        float[] t = new float[n * OUT];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * 1.3 + 0.2);
        }
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < OUT; o++) {
                t[i * OUT + o] = (float) Math.sin(x[i * IN + o] + 0.5 * x[i * IN + o + 3]);
            }
        }
        return new float[][] {x, t};
    }

    /** The epoch order: a seeded Fisher-Yates permutation, the same on every rank. */
    static int[] order(int n, long epoch) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        SplittableRandom r = new SplittableRandom(1234 + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /**
     * Trains {@code steps} SGD steps (lr 0.05) with per-rank batch {@code b} on {@code n} items and returns all
     * parameters and buffers of the final model, concatenated in state order (rank 0's init is broadcast).
     */
    public static float[] train(Communicator comm, int n, int b, int steps, boolean syncBn) {
        Net net = new Net(99 + 17L * comm.rank()); // different local inits: the broadcast must fix them
        if (syncBn) {
            SyncBatchNorm.convert(net, comm);
        }
        DataParallel dp = new DataParallel(net, comm, 5); // tiny buckets: parameters straddle bucket boundaries
        dp.broadcastInitialState();
        DistributedSampler sampler = new DistributedSampler(n, b, comm.rank(), comm.size(), false);
        float[][] d = data(n);
        List<Parameter> params = new ArrayList<>(net.namedParameters().values());
        for (int step = 0; step < steps; step++) {
            int epoch = step / sampler.batchesPerEpoch();
            int g = step % sampler.batchesPerEpoch();
            int[] ord = order(n, epoch);
            int m = sampler.localCount(g);
            float[] x = new float[m * IN];
            float[] t = new float[m * OUT];
            for (int i = 0; i < m; i++) {
                int item = ord[sampler.from(g) + i];
                System.arraycopy(d[0], item * IN, x, i * IN, IN);
                System.arraycopy(d[1], item * OUT, t, i * OUT, OUT);
            }
            net.zeroGrad();
            Tensor y = net.forward(Tensor.of(x, m, IN));
            // Mean over this rank's rows of 0.5 * |y - t|^2; its gradient is (y - t) / m.
            float[] dy = new float[m * OUT];
            for (int i = 0; i < dy.length; i++) {
                dy[i] = (y.data()[i] - t[i]) / m;
            }
            net.backward(Tensor.of(dy, m, OUT));
            dp.allReduceGradients(m, sampler.globalCount(g));
            for (Parameter p : params) {
                float[] w = p.data();
                float[] gr = p.grad().data();
                for (int i = 0; i < w.length; i++) {
                    w[i] -= 0.05f * gr[i];
                }
            }
        }
        List<float[]> parts = new ArrayList<>();
        net.namedParameters().values().forEach(p -> parts.add(p.data()));
        net.namedBuffers().values().forEach(t -> parts.add(t.data()));
        int total = parts.stream().mapToInt(a -> a.length).sum();
        float[] out = new float[total + 1];
        int o = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        out[o] = net.bn.numBatchesTracked();
        return out;
    }

    /** Largest absolute difference, or infinity when the lengths differ. */
    public static double maxDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
