package io.github.batchnorm4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the folder holding MNIST-style IDX files ({@code train-images-idx3-ubyte[.gz]},
 * {@code train-labels-idx1-ubyte[.gz]}, {@code t10k-...}): the {@code --data} option first, then the
 * {@code BN4J_DATA} environment variable, then where Debian's {@code dataset-fashion-mnist} package installs them.
 */
public final class DataLocator {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEBIAN_FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String ENV = "BN4J_DATA";

    private DataLocator() {}

    /**
     * The train and test sets of a source ({@code test} is null for a single CSV file or image folder) and what
     * the source is.
     */
    public record Splits(DataSet train, DataSet test, Path dir, DataInfo info) {
        /** An IDX folder's splits. */
        public Splits(DataSet train, DataSet test, Path dir) {
            this(train, test, dir, DataInfo.IDX);
        }
    }

    /**
     * Locates and reads the data; {@code option} (may be null) is the {@code --data} value, {@code env} BN4J_DATA's.
     * When neither is given and Debian's folder lacks the files, a process that may use apt-get (root) installs
     * {@code dataset-fashion-mnist} itself, saying so in one line on standard error; otherwise the error names the
     * exact command. The environment variables {@code BN4J_DEBIAN_DATA} (the Debian folder) and {@code
     * BN4J_APT_GET} (the apt-get command, or {@code none}) exist for tests of this path.
     */
    public static Splits load(String option, String env) throws IOException {
        String dir = System.getenv("BN4J_DEBIAN_DATA");
        Path debian = dir == null || dir.isBlank() ? DEBIAN_FASHION_MNIST : Path.of(dir);
        boolean explicit = (option != null && !option.isBlank()) || (env != null && !env.isBlank());
        if (!explicit && !hasFiles(debian)) {
            AptInstall.install(PACKAGE, "Fashion-MNIST (" + debian + " has no IDX files)", System.err);
        }
        return read(locate(option, env, debian));
    }

    /** The Debian package with Fashion-MNIST. */
    public static final String PACKAGE = "dataset-fashion-mnist";

    static Path locate(String option, String env, Path debian) throws IOException {
        List<String> looked = new ArrayList<>();
        if (option != null && !option.isBlank()) {
            Path p = Path.of(option);
            if (hasFiles(p)) {
                return p;
            }
            // An explicit folder that lacks the files is an error, not a reason to silently use another one.
            throw new IOException(missing(List.of("--data " + p)));
        }
        if (env != null && !env.isBlank()) {
            Path p = Path.of(env);
            if (hasFiles(p)) {
                return p;
            }
            throw new IOException(missing(List.of(ENV + "=" + p)));
        }
        if (hasFiles(debian)) {
            return debian;
        }
        looked.add("--data (not given)");
        looked.add(ENV + " (not set)");
        looked.add(debian.toString());
        throw new IOException(missing(looked));
    }

    private static String missing(List<String> looked) {
        return "Expected Fashion-MNIST (or MNIST) IDX files train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],"
                + " t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz], got none in " + String.join(", ", looked)
                + ". To get them on Debian: sudo apt-get install dataset-fashion-mnist (installs into "
                + DEBIAN_FASHION_MNIST + "); or download the four files of Fashion-MNIST and pass --data DIR or set "
                + ENV + "=DIR.";
    }

    static boolean hasFiles(Path dir) {
        for (String n : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte"}) {
            if (file(dir, n) == null) {
                return false;
            }
        }
        return true;
    }

    private static Path file(Path dir, String base) {
        for (Path p : new Path[] {dir.resolve(base), dir.resolve(base + ".gz")}) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    public static Splits read(Path dir) throws IOException {
        DataSet train = DataSet.read(file(dir, "train-images-idx3-ubyte"), file(dir, "train-labels-idx1-ubyte"));
        DataSet test = DataSet.read(file(dir, "t10k-images-idx3-ubyte"), file(dir, "t10k-labels-idx1-ubyte"));
        return new Splits(train, test, dir);
    }
}
