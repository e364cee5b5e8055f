package io.github.batchnorm4j.models;

import java.util.Locale;

/** The Keras-like summary table of a built model file ({@link ModelBuilder.Built#summary()}). */
final class ModelSummary {
    private ModelSummary() {}

    static String format(ModelBuilder.Built b) {
        String[] head = {"Layer (type)", "Output shape", "Param #", ""};
        int[] w = {head[0].length(), head[1].length(), head[2].length()};
        for (ModelBuilder.Row r : b.rows()) {
            w[0] = Math.max(w[0], label(r).length());
            w[1] = Math.max(w[1], batchShape(r.output()).length());
            w[2] = Math.max(w[2], count(r.parameters()).length());
        }
        StringBuilder s = new StringBuilder();
        String title = (b.file().name() != null ? "Model \"" + b.file().name() + "\"" : "Model") + ", input "
                + batchShape(b.input());
        s.append(title).append('\n');
        String rule = "-".repeat(w[0] + w[1] + w[2] + 6) + '\n';
        s.append(rule).append(row(w, head[0], head[1], head[2], "")).append(rule);
        long params = 0;
        long buffers = 0;
        for (ModelBuilder.Row r : b.rows()) {
            s.append(row(w, label(r), batchShape(r.output()), count(r.parameters()), r.note()));
            params += r.parameters();
            buffers += r.buffers();
        }
        s.append(rule);
        s.append("Trainable params: ").append(count(params)).append('\n');
        s.append("Non-trainable values (running statistics, frozen values): ").append(count(buffers)).append('\n');
        return s.toString();
    }

    private static String label(ModelBuilder.Row r) {
        return r.name() + " (" + r.type() + ")";
    }

    private static String row(int[] w, String a, String b, String c, String note) {
        String line = String.format(Locale.ROOT, "%-" + w[0] + "s   %-" + w[1] + "s   %" + w[2] + "s", a, b, c);
        return (note.isEmpty() ? line : line + "   " + note).stripTrailing() + '\n';
    }

    private static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** {@code (N, 64)} or {@code (N, 16, 28, 28)}. */
    static String batchShape(int[] s) {
        StringBuilder b = new StringBuilder("(N");
        for (int d : s) {
            b.append(", ").append(d);
        }
        return b.append(')').toString();
    }

    /** {@code [1, 28, 28]}. */
    static String shape(int[] s) {
        return java.util.Arrays.toString(s);
    }
}
