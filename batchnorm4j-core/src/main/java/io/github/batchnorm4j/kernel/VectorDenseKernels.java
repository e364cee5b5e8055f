package io.github.batchnorm4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API ({@code jdk.incubator.vector}) implementation of {@link DenseKernels}: {@link VectorGemm},
 * {@link VectorRowDots} and the ReLU loops. Loading this class without the module fails, which is why only
 * {@link Kernels} names it.
 */
public final class VectorDenseKernels implements DenseKernels {
    /** The one instance. */
    public static final VectorDenseKernels INSTANCE = new VectorDenseKernels();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorDenseKernels() {}

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, int[] bRows, float beta, float[] c, int cOff, int ldc,
                     Gemm.PackedA packed) {
        VectorGemm.run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, bRows, beta, c, cOff, ldc, packed);
    }

    @Override
    public void rowDots(int m, int n, int len, float[] a, int aOff, int lda, float[] b, int[] bRows, float[] c,
                        int cOff, int ldc) {
        VectorRowDots.accumulate(m, n, len, a, aOff, lda, b, bRows, c, cOff, ldc);
    }

    // A branchy scalar loop mispredicts on half of random signs, hence the vector compare and blend.
    @Override
    public void relu(float[] x, float[] y, int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, i).lanewise(VectorOperators.MAX, 0f).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = Math.max(x[i], 0f);
        }
    }

    @Override
    public void reluBackward(float[] y, float[] dy, float[] dx, int from, int to) {
        int i = from;
        FloatVector zero = FloatVector.zero(S);
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, i);
            zero.blend(FloatVector.fromArray(S, dy, i), v.compare(VectorOperators.GT, 0f)).intoArray(dx, i);
        }
        for (; i < to; i++) {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }

    @Override
    public String toString() {
        return "VectorDenseKernels(" + S.length() + " lanes)";
    }
}
