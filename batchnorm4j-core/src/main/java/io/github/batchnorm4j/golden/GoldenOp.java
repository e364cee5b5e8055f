package io.github.batchnorm4j.golden;

/** The operation a golden case checks, named in its {@code op} metadata as PyTorch's functional names are. */
public enum GoldenOp {
    BATCH_NORM("batch_norm", 2, 5),
    LAYER_NORM("layer_norm", 1, Integer.MAX_VALUE),
    GROUP_NORM("group_norm", 2, 5),
    INSTANCE_NORM("instance_norm", 3, 5);

    private final String key;
    private final int minRank;
    private final int maxRank;

    GoldenOp(String key, int minRank, int maxRank) {
        this.key = key;
        this.minRank = minRank;
        this.maxRank = maxRank;
    }

    /** The metadata spelling, e.g. {@code batch_norm}. */
    public String key() {
        return key;
    }

    /** Smallest accepted rank of {@code x}. */
    int minRank() {
        return minRank;
    }

    /** Largest accepted rank of {@code x}. */
    int maxRank() {
        return maxRank;
    }

    /** BatchNorm and InstanceNorm may keep running statistics; LayerNorm and GroupNorm never do. */
    public boolean mayTrackRunningStats() {
        return this == BATCH_NORM || this == INSTANCE_NORM;
    }

    /** The op for a metadata value, or null when there is none of that name. */
    static GoldenOp fromKey(String key) {
        for (GoldenOp op : values()) {
            if (op.key.equals(key)) {
                return op;
            }
        }
        return null;
    }
}
