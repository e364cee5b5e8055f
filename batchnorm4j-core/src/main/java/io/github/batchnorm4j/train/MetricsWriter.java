package io.github.batchnorm4j.train;

import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.io.Json;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Metrics as JSON lines, one object per event, flushed after each line so a crash loses at most one line.
 * Every line carries {@code "step"} (optimizer steps done); on resume the lines past the checkpoint's step are
 * dropped so that the file reads as one uninterrupted run.
 */
public final class MetricsWriter implements Closeable {
    private final BufferedWriter out;

    private MetricsWriter(BufferedWriter out) {
        this.out = out;
    }

    /** Starts a new file, or continues one after dropping the lines with a step beyond {@code resumeStep}. */
    public static MetricsWriter open(Path file, long resumeStep) throws IOException {
        if (resumeStep >= 0 && Files.exists(file)) {
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                try {
                    if (Json.parse(line) instanceof Map<?, ?> m && m.get("step") instanceof Long s && s <= resumeStep) {
                        keep.add(line);
                    }
                } catch (IllegalArgumentException e) {
                    // a line cut by a crash: drop it
                }
            }
            AtomicFiles.write(file, (String.join("\n", keep) + (keep.isEmpty() ? "" : "\n"))
                    .getBytes(StandardCharsets.UTF_8));
        } else {
            AtomicFiles.write(file, new byte[0]);
        }
        return new MetricsWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    /** Writes one object; values may be String, Number (non-finite numbers become null) or Boolean. */
    public void write(Map<String, ?> fields) throws IOException {
        out.write(toJson(fields));
        out.write('\n');
        out.flush();
    }

    static String toJson(Map<String, ?> fields) {
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, ?> e : fields.entrySet()) {
            if (b.length() > 1) {
                b.append(", ");
            }
            b.append(Json.quote(e.getKey())).append(": ");
            Object v = e.getValue();
            if (v instanceof String s) {
                b.append(Json.quote(s));
            } else if (v instanceof Double d && !Double.isFinite(d)) {
                b.append("null");
            } else if (v instanceof Float f && !Float.isFinite(f)) {
                b.append("null");
            } else {
                b.append(v);
            }
        }
        return b.append('}').toString();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
