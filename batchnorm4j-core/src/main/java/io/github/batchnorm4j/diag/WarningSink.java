package io.github.batchnorm4j.diag;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Prints each distinct warning once: a warning is identified by a key (check and layer), so a problem that
 * persists for every step is reported a single time. The default output is standard error.
 */
public final class WarningSink {
    private final Consumer<String> out;
    private final Set<String> seen = new HashSet<>();
    private final List<String> emitted = new ArrayList<>();

    public WarningSink(Consumer<String> out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /** Warnings to standard error. */
    public static WarningSink stderr() {
        return new WarningSink(System.err::println);
    }

    /** Emits {@code message} unless a warning with {@code key} was already emitted; returns whether it did. */
    public synchronized boolean warn(String key, String message) {
        if (!seen.add(key)) {
            return false;
        }
        emitted.add(message);
        out.accept(message);
        return true;
    }

    /** Whether a warning with this key was emitted. */
    public synchronized boolean warned(String key) {
        return seen.contains(key);
    }

    /** Every message emitted so far, in order. */
    public synchronized List<String> emitted() {
        return List.copyOf(emitted);
    }
}
