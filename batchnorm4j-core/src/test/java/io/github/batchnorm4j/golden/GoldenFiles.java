package io.github.batchnorm4j.golden;

import io.github.batchnorm4j.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** Test helper: writes a copy of a committed case with its metadata and tensors edited. */
public final class GoldenFiles {
    private GoldenFiles() {}

    /** The committed case of that name (surefire runs in a module directory). */
    public static Path committed(String name) {
        return Path.of("..", "golden", "cases", name + GoldenCase.SUFFIX);
    }

    /** Copies committed case {@code name} to {@code dst} after applying the edits (either may be null). */
    public static Path edited(String name, Path dst, Consumer<Map<String, String>> metadata,
                              Consumer<Map<String, SafeTensors.Entry>> tensors) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(committed(name));
        Map<String, String> md = new LinkedHashMap<>(c.metadata());
        Map<String, SafeTensors.Entry> t = new LinkedHashMap<>(c.tensors());
        if (metadata != null) {
            metadata.accept(md);
        }
        if (tensors != null) {
            tensors.accept(t);
        }
        SafeTensors.write(dst, t, md);
        return dst;
    }
}
