package io.github.batchnorm4j.dist;

import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.SyncBatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Measures what synchronizing BatchNorm costs on one rank of a group: a stack of {@code layers} BN layers over a
 * {@code [batch, channels, size, size]} input, forward then backward, timed per step for plain {@link BatchNorm}
 * (statistics of this rank only) and for {@link SyncBatchNorm} over the group, alternating the two so that drift
 * hits both alike. Every step starts after a barrier (not timed) so that ranks start together. Reported values are
 * medians over the timed steps, then the maximum over ranks (a step is as slow as its slowest rank).
 */
public final class SyncBenchmark {
    /**
     * @param bnStepMicros     median step time with local BatchNorm, µs
     * @param syncStepMicros   median step time with SyncBatchNorm, µs
     * @param commStepMicros   median time inside the SyncBN collectives per step, µs (waits included)
     * @param layers           BN layers per step
     * @param ranks            group size
     * @param imagesPerStep    images per step over all ranks
     */
    public record Result(double bnStepMicros, double syncStepMicros, double commStepMicros, int layers, int ranks,
                         long imagesPerStep) {
        /** Extra time per layer and step that synchronization costs, µs. */
        public double overheadPerLayerMicros() {
            return (syncStepMicros - bnStepMicros) / layers;
        }

        /** Time in collectives per layer and step (two collectives), µs. */
        public double commPerLayerMicros() {
            return commStepMicros / layers;
        }

        /** Global images per second with SyncBatchNorm. */
        public double syncImagesPerSecond() {
            return imagesPerStep / (syncStepMicros * 1e-6);
        }

        /** Images per second with local BatchNorm (all ranks together). */
        public double bnImagesPerSecond() {
            return imagesPerStep / (bnStepMicros * 1e-6);
        }
    }

    private SyncBenchmark() {}

    public static Result run(Communicator comm, int layers, int batch, int channels, int size, int warmup,
                             int steps) {
        TimingCommunicator timed = new TimingCommunicator(comm);
        BatchNorm[] plain = new BatchNorm[layers];
        BatchNorm[] sync = new BatchNorm[layers];
        for (int i = 0; i < layers; i++) {
            plain[i] = new BatchNorm(channels);
            sync[i] = new SyncBatchNorm(channels, timed);
            plain[i].reuseBuffers(true);
            sync[i].reuseBuffers(true);
        }
        SplittableRandom rng = new SplittableRandom(17 + comm.rank());
        Tensor x = Tensor.zeros(batch, channels, size, size);
        Tensor dy = Tensor.zeros(batch, channels, size, size);
        for (int i = 0; i < x.numel(); i++) {
            x.data()[i] = (float) rng.nextGaussian();
            dy.data()[i] = (float) rng.nextGaussian();
        }
        double[] tBn = new double[steps];
        double[] tSync = new double[steps];
        double[] tComm = new double[steps];
        for (int s = -warmup; s < steps; s++) {
            comm.barrier();
            double a = step(plain, x, dy);
            comm.barrier();
            timed.reset();
            double b = step(sync, x, dy);
            double c = timed.nanos() / 1e3;
            if (s >= 0) {
                tBn[s] = a;
                tSync[s] = b;
                tComm[s] = c;
            }
        }
        double[] mine = {median(tBn), median(tSync), median(tComm)};
        double[] all = new double[3 * comm.size()];
        comm.allGather(mine, 0, 3, all, 0);
        double[] worst = new double[3];
        for (int r = 0; r < comm.size(); r++) {
            for (int j = 0; j < 3; j++) {
                worst[j] = Math.max(worst[j], all[3 * r + j]);
            }
        }
        return new Result(worst[0], worst[1], worst[2], layers, comm.size(), (long) batch * comm.size());
    }

    /** One forward and backward through the stack; µs. */
    private static double step(BatchNorm[] stack, Tensor x, Tensor dy) {
        long t0 = System.nanoTime();
        Tensor y = x;
        for (BatchNorm bn : stack) {
            y = bn.forward(y);
        }
        Tensor g = dy;
        for (int i = stack.length - 1; i >= 0; i--) {
            g = stack[i].backward(g);
        }
        return (System.nanoTime() - t0) / 1e3;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
