package io.github.batchnorm4j.tensor;

/**
 * Physical order of a tensor's elements. The logical shape is always NCHW-style ({@code [N, C, ...spatial]});
 * the memory format only says how those elements are laid out in the backing array.
 */
public enum MemoryFormat {
    /** Row-major in the logical order: {@code [N][C][D][H][W]}. */
    CONTIGUOUS,
    /** Channels innermost for 4-D/5-D data: {@code [N][H][W][C]} or {@code [N][D][H][W][C]} (PyTorch's channels_last). */
    CHANNELS_LAST
}
