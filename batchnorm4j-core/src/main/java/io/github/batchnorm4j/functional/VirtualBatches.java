package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Ghost Batch Normalization's pipeline with one layer's reusable buffers: the batch, in order, is split into
 * virtual batches of {@code size} samples (the last holds the rest); each runs the statistics pipeline on its
 * own: local statistics → combine → running update → normalize, the running updates in virtual-batch order.
 *
 * <p>With a combine the virtual batches are those of the <em>group's</em> batch (the members' rows concatenated
 * in member order): a member's rows are placed by a prefix sum of the row counts, each member computes the local
 * statistics of its part of every virtual batch (possibly none), one combine merges all virtual batches in one
 * message, and every member makes the same running updates in the same order. The backward sums the reductions
 * of all virtual batches in one message too. So a group equals one process with the whole batch.
 *
 * <p>Virtual batches are addressed in place (whole samples are contiguous in both memory formats): no copies.
 * Not thread-safe; one per layer.
 */
public final class VirtualBatches {
    private final int size;
    private NormWorkspace[] ws = new NormWorkspace[0];
    private NormSaved[] saved = new NormSaved[0];
    private NormGeometry[] geometry = new NormGeometry[0];
    private int[] offset = new int[0];
    private double[] count = new double[0];
    private double[] mean = new double[0];
    private double[] m2 = new double[0];
    private double[] sums = new double[0];
    private float[] dGamma = new float[0];
    private float[] dBeta = new float[0];
    private final double[] prefix = new double[2];
    private int virtualBatches;
    private Tensor input;
    private StatsCombine combine;

    public VirtualBatches(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("Expected ghost_batch_size > 0, got ghost_batch_size=" + size);
        }
        this.size = size;
    }

    public int size() {
        return size;
    }

    /** Number of virtual batches a batch of {@code n} samples is split into. */
    public int virtualBatches(long n) {
        return (int) ((n + size - 1) / size);
    }

    /**
     * Training forward of {@code x} ({@code (N, C, ...)}, either format, checked by the caller): returns the output
     * (a buffer of {@code out}); updates {@code rs} (may be null) once per virtual batch, in order. A virtual batch
     * with one value per channel is rejected before anything changes.
     */
    public Tensor forward(Tensor x, Tensor weight, Tensor bias, RunningStats rs, double eps, StatsCombine combine,
                          NormWorkspace out) {
        Functional.checkEps(eps);
        int n = x.dim(0);
        int c = x.dim(1);
        long first = 0;
        long total = n;
        if (combine != null) {
            combine.prefixSum(n, prefix);
            first = (long) prefix[0];
            total = (long) prefix[1];
        }
        int v = virtualBatches(total);
        long lastSize = total - (long) (v - 1) * size;
        if (total > 0 && lastSize * x.spatialSize() == 1) {
            throw new IllegalArgumentException("Expected more than 1 value per channel in every virtual batch when "
                    + "training, got a last virtual batch of 1 sample (batch " + total + ", ghost_batch_size " + size
                    + ") for input size " + x.shapeString());
        }
        grow(v, c);
        Tensor y = out.output(x); // every element is written: the virtual batches tile the batch
        int per = n == 0 ? 0 : x.numel() / n;
        float[] gm = Functional.data(weight);
        float[] bt = Functional.data(bias);
        for (int j = 0; j < v; j++) {
            long lo = Math.max(first, (long) j * size);
            long hi = Math.min(first + n, (long) (j + 1) * size);
            int rows = (int) Math.max(0, hi - lo);
            offset[j] = rows == 0 ? 0 : (int) (lo - first) * per;
            NormGeometry g = Functional.batchNormGeometry(x, rows, ws[j]);
            geometry[j] = g;
            if (combine == null) {
                saved[j] = NormCore.trainFused(x.data(), offset[j], y.data(), offset[j], g, rs, eps, gm, bt, null,
                        false, ws[j], x.format());
            } else {
                ws[j].prepare(g);
                NormCore.localStats(x.data(), offset[j], g, ws[j].mean(), ws[j].m2());
                count[j] = g.count();
                System.arraycopy(ws[j].mean(), 0, mean, j * c, c);
                System.arraycopy(ws[j].m2(), 0, m2, j * c, c);
            }
        }
        if (combine != null) {
            combine.combine(count, mean, m2, v, c);
            for (int j = 0; j < v; j++) {
                NormGeometry g = geometry[j];
                System.arraycopy(mean, j * c, ws[j].mean(), 0, c);
                System.arraycopy(m2, j * c, ws[j].m2(), 0, c);
                saved[j] = NormCore.finish(x.data(), offset[j], y.data(), offset[j], g, count[j], rs, null, eps, gm,
                        bt, combine, ws[j], x.format());
            }
        }
        input = x;
        virtualBatches = v;
        this.combine = combine;
        return y;
    }

    /**
     * Backward of the last forward: returns dx (a buffer of {@code out}, in x's format) and, when
     * {@code gradWeight} is non-null, adds the gamma/beta gradients into {@code gradWeight}/{@code gradBias} once
     * per virtual batch, as consecutive BatchNorm backwards would.
     */
    public Tensor backward(Tensor gradOutput, Tensor weight, float[] gradWeight, float[] gradBias, NormWorkspace out) {
        Tensor x = input;
        Functional.checkGradientShape(x, gradOutput);
        Tensor dy = out.gradientIn(gradOutput, x.format());
        Tensor dx = out.gradInput(x); // every element is written
        float[] gm = Functional.data(weight);
        boolean affine = gradWeight != null;
        int c = x.dim(1);
        if (combine == null) {
            for (int j = 0; j < virtualBatches; j++) {
                NormCore.backward(saved[j], x.data(), offset[j], dy.data(), offset[j], gm, null, dx.data(), offset[j],
                        null, affine ? dGamma : null, affine ? dBeta : null, ws[j]);
                addAffine(affine, gradWeight, gradBias, c);
            }
            return dx;
        }
        for (int j = 0; j < virtualBatches; j++) {
            NormCore.reduce(saved[j], x.data(), offset[j], dy.data(), offset[j], gm, sums, 2 * j * c,
                    affine ? ws[j].dGamma() : null, affine ? ws[j].dBeta() : null, ws[j]);
        }
        combine.sum(sums, 0, 2 * virtualBatches * c);
        for (int j = 0; j < virtualBatches; j++) {
            NormCore.elementwise(saved[j], x.data(), offset[j], dy.data(), offset[j], gm, sums, 2 * j * c, dx.data(),
                    offset[j], ws[j]);
            if (affine) {
                NormCore.copyOut(ws[j].dGammaSums(), dGamma);
                NormCore.copyOut(ws[j].dBetaSums(), dBeta);
                addAffine(true, gradWeight, gradBias, c);
            }
        }
        return dx;
    }

    private void addAffine(boolean affine, float[] gradWeight, float[] gradBias, int c) {
        for (int i = 0; affine && i < c; i++) {
            gradWeight[i] += dGamma[i];
            gradBias[i] += dBeta[i];
        }
    }

    /** Room for {@code v} virtual batches of {@code c} channels (each keeps its buffers from call to call). */
    private void grow(int v, int c) {
        if (ws.length < v) {
            int old = ws.length;
            ws = Arrays.copyOf(ws, v);
            saved = Arrays.copyOf(saved, v);
            geometry = Arrays.copyOf(geometry, v);
            offset = Arrays.copyOf(offset, v);
            count = Arrays.copyOf(count, v);
            for (int j = old; j < v; j++) {
                ws[j] = new NormWorkspace();
            }
        }
        if (mean.length < v * c) {
            mean = new double[v * c];
            m2 = new double[v * c];
            sums = new double[2 * v * c];
        }
        if (dGamma.length != c) {
            dGamma = new float[c];
            dBeta = new float[c];
        }
    }
}
