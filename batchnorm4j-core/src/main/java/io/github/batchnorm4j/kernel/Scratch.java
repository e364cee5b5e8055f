package io.github.batchnorm4j.kernel;

/** Per-thread scratch arrays that grow and are then kept, so steady-state calls allocate nothing. */
public final class Scratch {
    private Scratch() {}

    /** The calling thread's array of {@code slot}, grown to at least {@code size} floats (contents undefined). */
    public static float[] floats(ThreadLocal<float[]> slot, int size) {
        float[] a = slot.get();
        if (a == null || a.length < size) {
            a = new float[size];
            slot.set(a);
        }
        return a;
    }
}
