package io.github.batchnorm4j.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Labelled items in memory: {@code size()} items of shape {@code itemShape} ({@code [C, H, W]}, or
 * {@code [features]}) as unsigned bytes, normalised on the fly when batches are built ({@code (x/255 - mean)/std}),
 * or as float features (a CSV table), standardised per feature with {@link #standardized} and then mapped by
 * {@code (x - mean)/std}; int labels in {@code [0, numClasses)}. Items are addressed by index so that splits and
 * shuffles are index arrays; every view shares the values.
 */
public final class DataSet {
    private final byte[] pixels;
    private final int[] labels;
    private final int[] itemShape;
    private final int itemSize;
    private final int numClasses;
    private final int[] index;
    /** Float features instead of bytes (null for bytes), and their per-feature standardisation (null: none). */
    private final float[] values;
    private final float[] featureMean;
    private final float[] featureStd;

    private DataSet(byte[] pixels, int[] labels, int[] itemShape, int numClasses, int[] index) {
        this(pixels, null, null, null, labels, itemShape, numClasses, index);
    }

    private DataSet(byte[] pixels, float[] values, float[] featureMean, float[] featureStd, int[] labels,
                    int[] itemShape, int numClasses, int[] index) {
        this.values = values;
        this.featureMean = featureMean;
        this.featureStd = featureStd;
        this.pixels = pixels;
        this.labels = labels;
        this.itemShape = itemShape;
        this.itemSize = (values != null ? values.length : pixels.length) / Math.max(1, labels.length);
        this.numClasses = numClasses;
        this.index = index;
    }

    /** Images {@code [N, H, W]} (or {@code [N, C, H, W]}) and labels {@code [N]} in {@code [0, numClasses)}. */
    public static DataSet of(Idx.Array images, Idx.Array labels, int numClasses) {
        if (labels.dims().length != 1) {
            throw new IllegalArgumentException("Expected labels of shape [N], got " + Arrays.toString(labels.dims()));
        }
        if (images.dims().length < 2 || images.count() != labels.count()) {
            throw new IllegalArgumentException("Expected images of shape [" + labels.count() + ", ...] to match "
                    + labels.count() + " labels, got " + Arrays.toString(images.dims()));
        }
        int[] d = images.dims();
        int[] item = d.length == 3 ? new int[] {1, d[1], d[2]} : Arrays.copyOfRange(d, 1, d.length);
        int[] lab = new int[labels.count()];
        for (int i = 0; i < lab.length; i++) {
            lab[i] = labels.data()[i] & 0xff;
            if (lab[i] >= numClasses) {
                throw new IllegalArgumentException("Expected labels in [0, " + numClasses + "), got " + lab[i]
                        + " at item " + i);
            }
        }
        int[] idx = new int[lab.length];
        Arrays.setAll(idx, i -> i);
        return new DataSet(images.data(), lab, item, numClasses, idx);
    }

    /** Items of {@code itemShape} as bytes (row-major, item after item) with labels in {@code [0, numClasses)}. */
    public static DataSet ofBytes(byte[] pixels, int[] labels, int[] itemShape, int numClasses) {
        check(pixels.length, labels, itemShape, numClasses);
        int[] idx = new int[labels.length];
        Arrays.setAll(idx, i -> i);
        return new DataSet(pixels, labels.clone(), itemShape.clone(), numClasses, idx);
    }

    /** Items of {@code itemShape} as float features (item after item) with labels in {@code [0, numClasses)}. */
    public static DataSet ofFloats(float[] values, int[] labels, int[] itemShape, int numClasses) {
        check(values.length, labels, itemShape, numClasses);
        int[] idx = new int[labels.length];
        Arrays.setAll(idx, i -> i);
        return new DataSet(null, values, null, null, labels.clone(), itemShape.clone(), numClasses, idx);
    }

    private static void check(int length, int[] labels, int[] itemShape, int numClasses) {
        long item = 1;
        for (int d : itemShape) {
            item *= d;
        }
        if (item * labels.length != length) {
            throw new IllegalArgumentException("Expected " + labels.length + " items of " + Arrays.toString(itemShape)
                    + " (" + item * labels.length + " values), got " + length + " values");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("Expected labels in [0, " + numClasses + "), got " + labels[i]
                        + " at item " + i);
            }
        }
    }

    /** Whether the items are float features (a table) rather than bytes (images). */
    public boolean isFeatures() {
        return values != null;
    }

    /**
     * The same items seen with another shape of the same size (e.g. {@code [1, 28, 28]} images fed to a model
     * whose input is {@code [784]}).
     */
    public DataSet withItemShape(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != itemSize) {
            throw new IllegalArgumentException("Expected an item shape of " + itemSize + " values for items of "
                    + Arrays.toString(itemShape) + ", got " + Arrays.toString(shape));
        }
        return new DataSet(pixels, values, featureMean, featureStd, labels, shape.clone(), numClasses, index);
    }

    /**
     * Per-feature mean and population standard deviation of these items' float features (in double), as
     * {@code [mean[], std[]]}; a constant feature gets std 1 so that standardising leaves it at 0.
     */
    public float[][] featureMeanStd() {
        if (values == null) {
            throw new IllegalStateException("featureMeanStd needs float features");
        }
        double[] s = new double[itemSize];
        double[] ss = new double[itemSize];
        for (int i : index) {
            for (int k = 0; k < itemSize; k++) {
                s[k] += values[i * itemSize + k];
            }
        }
        int n = Math.max(1, index.length);
        float[] mean = new float[itemSize];
        float[] std = new float[itemSize];
        for (int k = 0; k < itemSize; k++) {
            double m = s[k] / n;
            for (int i : index) {
                double d = values[i * itemSize + k] - m;
                ss[k] += d * d;
            }
            double sd = Math.sqrt(ss[k] / n);
            mean[k] = (float) m;
            std[k] = sd > 0 && Double.isFinite(sd) ? (float) sd : 1f;
        }
        return new float[][] {mean, std};
    }

    /** These items with their float features standardised as {@code (x - mean[k]) / std[k]}. */
    public DataSet standardized(float[] mean, float[] std) {
        if (values == null || mean.length != itemSize || std.length != itemSize) {
            throw new IllegalArgumentException("Expected " + itemSize + " feature means and deviations for float"
                    + " features, got " + mean.length + " and " + std.length);
        }
        return new DataSet(null, values, mean.clone(), std.clone(), labels, itemShape, numClasses, index);
    }

    /** Reads an images file and a labels file (10 classes, as in MNIST and Fashion-MNIST). */
    public static DataSet read(Path images, Path labels) throws IOException {
        Idx.Array im = Idx.read(images);
        Idx.Array lb = Idx.read(labels);
        try {
            return of(im, lb, 10);
        } catch (IllegalArgumentException e) {
            throw new IOException(images + " / " + labels + ": " + e.getMessage(), e);
        }
    }

    public int size() {
        return index.length;
    }

    public int[] itemShape() {
        return itemShape.clone();
    }

    public int itemSize() {
        return itemSize;
    }

    public int numClasses() {
        return numClasses;
    }

    public int label(int i) {
        return labels[index[i]];
    }

    /** Writes item {@code i} normalised as {@code (x/255 - mean)/std} into {@code dst[off..off+itemSize)}. */
    public void copyItem(int i, float[] dst, int off, float mean, float std) {
        int src = index[i] * itemSize;
        if (values != null) {
            float inv = 1f / std;
            for (int k = 0; k < itemSize; k++) {
                float v = featureMean == null ? values[src + k] : (values[src + k] - featureMean[k]) / featureStd[k];
                dst[off + k] = (v - mean) * inv;
            }
            return;
        }
        float scale = 1f / (255f * std);
        float shift = mean / std;
        for (int k = 0; k < itemSize; k++) {
            dst[off + k] = (pixels[src + k] & 0xff) * scale - shift;
        }
    }

    /** Mean and standard deviation of all pixel values scaled to [0, 1] (population, in double). */
    public float[] meanStd() {
        if (values != null) {
            return new float[] {0f, 1f}; // tables are standardised per feature instead
        }
        double s = 0;
        double ss = 0;
        long n = (long) index.length * itemSize;
        for (int i : index) {
            for (int k = 0; k < itemSize; k++) {
                double v = (pixels[i * itemSize + k] & 0xff) / 255.0;
                s += v;
                ss += v * v;
            }
        }
        double mean = s / Math.max(1, n);
        double var = Math.max(0, ss / Math.max(1, n) - mean * mean);
        return new float[] {(float) mean, (float) Math.sqrt(var)};
    }

    /** The items {@code [from, to)} of this set as a new set sharing the pixels. */
    public DataSet slice(int from, int to) {
        if (from < 0 || to > index.length || from > to) {
            throw new IllegalArgumentException("Expected a range within [0, " + index.length + "], got [" + from
                    + ", " + to + ")");
        }
        return new DataSet(pixels, values, featureMean, featureStd, labels, itemShape, numClasses,
                Arrays.copyOfRange(index, from, to));
    }

    /**
     * A seeded random split into {@code [train, validation]} with {@code validationSize} items in the second:
     * the same seed always gives the same split.
     */
    public DataSet[] split(int validationSize, long seed) {
        if (validationSize < 0 || validationSize > index.length) {
            throw new IllegalArgumentException("Expected a validation size in [0, " + index.length + "], got "
                    + validationSize);
        }
        int[] perm = index.clone();
        Shuffle.permute(perm, new SplittableRandom(seed ^ 0x5EED5EEDL));
        int cut = index.length - validationSize;
        return new DataSet[] {
            new DataSet(pixels, values, featureMean, featureStd, labels, itemShape, numClasses,
                Arrays.copyOfRange(perm, 0, cut)),
            new DataSet(pixels, values, featureMean, featureStd, labels, itemShape, numClasses,
                Arrays.copyOfRange(perm, cut, perm.length))
        };
    }
}
