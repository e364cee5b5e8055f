package io.github.batchnorm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads {@code --data} by what it finds: a folder of MNIST-style IDX files ({@link DataLocator}), a CSV file
 * ({@link CsvTable}, needs the label column) or a folder with a subfolder of images per class
 * ({@link ImageFolder}). Without {@code --data}, {@code BN4J_DATA} and then Debian's Fashion-MNIST folder are
 * used, as IDX.
 */
public final class DataSource {
    private DataSource() {}

    /**
     * How to read a source.
     *
     * @param label   the class column of a CSV file ({@code --label})
     * @param skipBad skip (and count) bad rows and unreadable images instead of failing
     * @param input   the model's input {@code [C, H, W]} images are converted to; null: the images decide
     * @param known   the data description of a trained model (class names, CSV columns), or null when training
     */
    public record Options(String label, boolean skipBad, int[] input, DataInfo known) {
        public static final Options DEFAULT = new Options(null, false, null, null);
    }

    public static DataLocator.Splits load(String option, String env, Options o) throws IOException {
        if (option != null && !option.isBlank()) {
            Path p = Path.of(option);
            List<String> classes = o.known() == null ? null : o.known().classes();
            if (Files.isRegularFile(p)) {
                if (!p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) {
                    throw new IOException("Expected --data to be a folder of IDX files, a .csv file or a folder of"
                            + " class subfolders of images, got the file " + p);
                }
                return CsvTable.read(p, o.known() != null && o.known().label() != null ? o.known().label() : o.label(),
                        o.skipBad(), classes, o.known() == null ? null : o.known().columns());
            }
            if (Files.isDirectory(p) && !DataLocator.hasFiles(p) && ImageFolder.looksLike(p)) {
                return ImageFolder.read(p, o.input(), o.skipBad(), classes);
            }
        }
        if (o.label() != null) {
            throw new IllegalArgumentException("Expected --label only with a CSV file as --data, got --data "
                    + (option == null ? "(not given)" : option));
        }
        return DataLocator.load(option, env);
    }

    /**
     * The validation items held out of {@code n} training items for {@code text}: a count ({@code 5000}) or a
     * fraction below 1 ({@code 0.1}, rounded to the nearest item); at least one item stays for training.
     */
    public static int validationCount(String text, int n) {
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Expected --validation as a count (5000) or a fraction below 1 (0.1),"
                    + " got " + text);
        }
        if (!(v >= 0) || Double.isInfinite(v) || (v >= 1 && v != Math.rint(v))) {
            throw new IllegalArgumentException("Expected --validation as a count (5000) or a fraction below 1 (0.1),"
                    + " got " + text);
        }
        long count = v < 1 ? Math.round(v * n) : (long) v;
        return (int) Math.min(count, Math.max(0, n - 1));
    }
}
