package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.data.DataSet;

/**
 * The data of a reproduction: Fashion-MNIST's 60k training and 10k test images (or small synthetic stand-ins in
 * tests), normalised as the protocol says: {@code (x/255 - 0.2860) / 0.3530}.
 */
public record ReproData(DataSet train, DataSet test, String description) {
    public static final float MEAN = 0.2860f;
    public static final float STD = 0.3530f;
}
