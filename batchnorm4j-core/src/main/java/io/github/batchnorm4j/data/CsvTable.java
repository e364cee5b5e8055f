package io.github.batchnorm4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A labelled table from a CSV file: a header row naming the columns, then one item per row; the {@code label}
 * column holds the class (any text; the class names are its distinct values, in numeric order when all are
 * integers, else in text order), every other column a number. Fields may be quoted ({@code "a,b"}, {@code ""}
 * for a quote). Blank lines are ignored. A ragged row, a field that is not a finite number or a label outside the
 * known classes is an error naming the file and line, or, with {@code skipBad}, skipped and counted.
 * The reader is bounded: lines up to {@value #MAX_LINE} characters, at most {@value #MAX_COLUMNS} columns.
 */
public final class CsvTable {
    public static final int MAX_LINE = 1 << 20;
    public static final int MAX_COLUMNS = 100_000;

    private CsvTable() {}

    /**
     * Reads {@code file}. {@code classes} and {@code columns}, when not null (from a checkpoint), fix the class
     * order and the feature columns (found by name in the header, in that order); otherwise they come from the file.
     */
    public static DataLocator.Splits read(Path file, String label, boolean skipBad, List<String> classes,
                                          List<String> columns) throws IOException {
        if (label == null || label.isBlank()) {
            throw new IllegalArgumentException("Expected --label COLUMN naming the class column of the CSV file "
                    + file + ", got none");
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file, label, skipBad, classes, columns);
        } catch (CharacterCodingException e) {
            // The decoder reads ahead by blocks, so the line it was at says little about where the bytes are.
            throw new IOException(file + ": expected UTF-8 text, got bytes that are not UTF-8");
        }
    }

    private static DataLocator.Splits read(BufferedReader in, Path file, String label, boolean skipBad,
                                           List<String> classes, List<String> columns)
            throws IOException {
        {
            int lineNo = 0;
            String line;
            List<String> header = null;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    header = fields(file, lineNo, line);
                    break;
                }
            }
            if (header == null) {
                throw new IOException(file + ": expected a header row naming the columns, got an empty file");
            }
            int labelAt = header.indexOf(label);
            if (labelAt < 0) {
                throw new IOException(file + ":" + lineNo + ": expected a column '" + label + "' (--label) in the"
                        + " header, got " + header);
            }
            List<String> features = new ArrayList<>();
            int[] at;
            if (columns == null) {
                for (int k = 0; k < header.size(); k++) {
                    if (k != labelAt) {
                        features.add(header.get(k));
                    }
                }
                if (features.isEmpty()) {
                    throw new IOException(file + ":" + lineNo + ": expected feature columns besides the label '"
                            + label + "', got only the label");
                }
                at = new int[features.size()];
                for (int k = 0, j = 0; k < header.size(); k++) {
                    if (k != labelAt) {
                        at[j++] = k;
                    }
                }
            } else {
                features.addAll(columns);
                at = new int[columns.size()];
                for (int j = 0; j < at.length; j++) {
                    at[j] = header.indexOf(columns.get(j));
                    if (at[j] < 0) {
                        throw new IOException(file + ":" + lineNo + ": expected the model's feature column '"
                                + columns.get(j) + "' in the header, got " + header);
                    }
                }
            }
            List<float[]> rows = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            int skipped = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    List<String> f = fields(file, lineNo, line);
                    if (f.size() != header.size()) {
                        throw new IOException(file + ":" + lineNo + ": expected " + header.size() + " fields (as the"
                                + " header), got " + f.size());
                    }
                    float[] row = new float[at.length];
                    for (int j = 0; j < at.length; j++) {
                        row[j] = number(file, lineNo, features.get(j), f.get(at[j]));
                    }
                    String cls = f.get(labelAt);
                    if (cls.isEmpty()) {
                        throw new IOException(file + ":" + lineNo + ": expected a class in column '" + label
                                + "', got an empty field");
                    }
                    if (classes != null && !classes.contains(cls)) {
                        throw new IOException(file + ":" + lineNo + ": expected a class the model knows " + classes
                                + " in column '" + label + "', got '" + cls + "'");
                    }
                    rows.add(row);
                    labels.add(cls);
                } catch (IOException e) {
                    if (!skipBad) {
                        throw new IOException(e.getMessage() + " (--skip-bad skips such rows)");
                    }
                    skipped++;
                }
            }
            if (rows.isEmpty()) {
                throw new IOException(file + ": expected at least one data row after the header, got none"
                        + (skipped > 0 ? " (" + skipped + " bad rows skipped)" : ""));
            }
            List<String> names = classes != null ? classes : classNames(labels);
            Map<String, Integer> id = new HashMap<>();
            for (int k = 0; k < names.size(); k++) {
                id.put(names.get(k), k);
            }
            if (names.size() < 2) {
                throw new IOException(file + ": expected at least 2 classes in column '" + label + "', got " + names);
            }
            float[] values = new float[rows.size() * at.length];
            int[] y = new int[rows.size()];
            for (int i = 0; i < y.length; i++) {
                System.arraycopy(rows.get(i), 0, values, i * at.length, at.length);
                y[i] = id.get(labels.get(i));
            }
            DataSet set = DataSet.ofFloats(values, y, new int[] {at.length}, names.size());
            return new DataLocator.Splits(set, null, file, new DataInfo("csv", names, features, label, skipBad, skipped));
        }
    }

    private static float number(Path file, int line, String column, String text) throws IOException {
        try {
            float v = Float.parseFloat(text.trim());
            if (Float.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(file + ":" + line + ": expected a number in column '" + column + "', got '" + text
                + "'");
    }

    /** Integers in numeric order when every value is one, else text order. */
    static List<String> classNames(List<String> labels) {
        TreeSet<String> distinct = new TreeSet<>(labels);
        boolean numeric = distinct.stream().allMatch(s -> s.matches("-?\\d{1,18}"));
        List<String> out = new ArrayList<>(distinct);
        if (numeric) {
            out.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
        }
        return out;
    }

    /** Splits one line into fields (RFC 4180 quoting within the line). */
    static List<String> fields(Path file, int lineNo, String line) throws IOException {
        if (line.length() > MAX_LINE) {
            throw new IOException(file + ":" + lineNo + ": expected lines of at most " + MAX_LINE + " characters, got "
                    + line.length());
        }
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        boolean blank = true; // the field so far is blank: a quote here opens a quoted field
        for (int k = 0; k < line.length(); k++) {
            char c = line.charAt(k);
            if (quoted) {
                if (c == '"' && k + 1 < line.length() && line.charAt(k + 1) == '"') {
                    f.append('"');
                    k++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    f.append(c);
                }
            } else if (c == '"' && blank) {
                quoted = true;
                blank = false;
                f.setLength(0);
            } else if (c == ',') {
                out.add(f.toString().trim());
                f.setLength(0);
                blank = true;
                if (out.size() > MAX_COLUMNS) {
                    throw new IOException(file + ":" + lineNo + ": expected at most " + MAX_COLUMNS + " columns");
                }
            } else {
                f.append(c);
                blank &= Character.isWhitespace(c);
            }
        }
        if (quoted) {
            throw new IOException(file + ":" + lineNo + ": expected a closing quote, got the end of the line");
        }
        out.add(f.toString().trim());
        return out;
    }
}
