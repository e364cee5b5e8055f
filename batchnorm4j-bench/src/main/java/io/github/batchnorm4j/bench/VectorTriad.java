package io.github.batchnorm4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The triad's vector loop, in a class of its own so that it loads only when the Vector API module is present. */
final class VectorTriad {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorTriad() {}

    /** {@code a[i] = b[i] + s * c[i]} over whole vectors from {@code from}; returns where the scalar tail starts. */
    static int chunk(float[] a, float[] b, float[] c, float s, int from, int to) {
        int i = from;
        for (; i <= to - F.length(); i += F.length()) {
            FloatVector.fromArray(F, c, i).fma(FloatVector.broadcast(F, s), FloatVector.fromArray(F, b, i))
                    .intoArray(a, i);
        }
        return i;
    }
}
