package io.github.batchnorm4j.data;

import io.github.batchnorm4j.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a data source is, stored in checkpoints ({@code data.*} metadata) so that predict and export read new data
 * the way training did.
 *
 * @param kind    {@code idx} (MNIST-style files), {@code csv} (a table) or {@code images} (a folder per class)
 * @param classes the class names in label order (null for IDX: labels 0..9)
 * @param columns the CSV feature columns in order (null otherwise)
 * @param label   the CSV label column (null otherwise)
 * @param skipBad whether bad rows and unreadable images were skipped ({@code --skip-bad})
 * @param skipped how many were skipped; not stored
 */
public record DataInfo(String kind, List<String> classes, List<String> columns, String label, boolean skipBad,
                       int skipped) {
    public static final DataInfo IDX = new DataInfo("idx", null, null, null, false, 0);

    public DataInfo {
        classes = classes == null ? null : List.copyOf(classes);
        columns = columns == null ? null : List.copyOf(columns);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data.kind", kind);
        if (classes != null) {
            m.put("data.classes", Json.write(classes));
        }
        if (columns != null) {
            m.put("data.columns", Json.write(columns));
        }
        if (label != null) {
            m.put("data.label", label);
        }
        if (skipBad) {
            m.put("data.skipBad", "true");
        }
        return m;
    }

    /** Reads {@link #toMetadata()}; checkpoints without {@code data.kind} read as {@link #IDX}. */
    public static DataInfo fromMetadata(Map<String, String> meta) {
        String kind = meta.get("data.kind");
        if (kind == null) {
            return IDX;
        }
        return new DataInfo(kind, strings(meta.get("data.classes")), strings(meta.get("data.columns")),
                meta.get("data.label"), Boolean.parseBoolean(meta.get("data.skipBad")), 0);
    }

    private static List<String> strings(String json) {
        if (json == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (Json.parse(json) instanceof List<?> l) {
            for (Object o : l) {
                out.add(String.valueOf(o));
            }
        }
        return out;
    }
}
