package io.github.batchnorm4j.nn;

/** An integer buffer such as BatchNorm's {@code num_batches_tracked} (int64 in PyTorch's state_dict). */
public final class LongState {
    private long value;

    public long get() {
        return value;
    }

    public void set(long value) {
        this.value = value;
    }

    public long increment() {
        return ++value;
    }
}
