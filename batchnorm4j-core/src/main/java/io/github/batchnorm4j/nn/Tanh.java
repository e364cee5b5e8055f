package io.github.batchnorm4j.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@code y = tanh(x)}; {@code dx = dy * (1 - y^2)}. Vectorised with the Vector API's TANH. */
public final class Tanh extends Activation {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override
    void apply(float[] x, float[] y, int from, int to) {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, i).lanewise(VectorOperators.TANH).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = (float) Math.tanh(x[i]);
        }
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = y[i];
            dx[i] = dy[i] * (1f - v * v);
        }
    }
}
