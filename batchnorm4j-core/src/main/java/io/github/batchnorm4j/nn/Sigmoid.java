package io.github.batchnorm4j.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@code y = 1 / (1 + exp(-x))}; {@code dx = dy * y * (1 - y)}. Vectorised with the Vector API's EXP. */
public final class Sigmoid extends Activation {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override
    void apply(float[] x, float[] y, int n) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, x, i).neg().lanewise(VectorOperators.EXP);
            one.div(e.add(one)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = (float) (1.0 / (1.0 + Math.exp(-x[i])));
        }
    }

    @Override
    void derivative(float[] y, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) {
            float v = y[i];
            dx[i] = dy[i] * v * (1f - v);
        }
    }
}
