package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * Walks a model with PyTorch's dotted names (looking through {@link Probe}s, which add no name level) and
 * installs probes around chosen layers until {@link Installation#remove()}. Installing relies on
 * {@link Module#replaceChild}, which containers honour.
 */
public final class Probes {
    private Probes() {}

    /** Every module under {@code root} (root excluded) by dotted name, in registration order, probes skipped. */
    public static Map<String, Module> named(Module root) {
        Map<String, Module> out = new LinkedHashMap<>();
        walk(root, "", (name, parent, child) -> out.put(name, child));
        return out;
    }

    /** The unwrapped module (looks through probes). */
    public static Module unwrap(Module m) {
        return m instanceof Probe p ? p.layer() : m;
    }

    interface Visitor {
        void visit(String name, Module parent, Module child);
    }

    /** Visits (dotted name, direct parent, child) for every descendant, depth first; probes are looked through. */
    static void walk(Module m, String prefix, Visitor v) {
        for (Map.Entry<String, Module> e : new ArrayList<>(m.children().entrySet())) {
            Module parent = m;
            String key = e.getKey();
            Module child = e.getValue();
            while (child instanceof Probe p) { // the innermost probe is the parent that holds the layer
                parent = p;
                key = "inner";
                child = p.inner();
            }
            String name = prefix + e.getKey();
            v.visit(name, parent, child);
            walk(child, name + ".", v);
        }
    }

    /** Probes installed by one call; {@link #remove()} puts the original modules back. */
    public static final class Installation {
        private final List<Runnable> undo = new ArrayList<>();

        /** Restores the wrapped modules (idempotent). */
        public void remove() {
            for (int i = undo.size() - 1; i >= 0; i--) {
                undo.get(i).run();
            }
            undo.clear();
        }

        public int size() {
            return undo.size();
        }
    }

    /** Wraps every layer for which {@code select(name, layer)} holds (the root cannot be wrapped). */
    public static Installation install(Module root, BiPredicate<String, Module> select, Probe.Listener listener) {
        Installation inst = new Installation();
        List<Object[]> chosen = new ArrayList<>();
        walk(root, "", (name, parent, child) -> {
            if (select.test(name, child)) {
                chosen.add(new Object[] {name, parent, child});
            }
        });
        for (Object[] c : chosen) {
            String name = (String) c[0];
            Module parent = (Module) c[1];
            Module layer = (Module) c[2];
            String key = keyOf(parent, layer);
            Probe probe = new Probe(name, layer, listener);
            parent.replaceChild(key, probe);
            inst.undo.add(() -> {
                if (parent.children().get(key) == probe) {
                    parent.replaceChild(key, layer);
                }
            });
        }
        return inst;
    }

    private static String keyOf(Module parent, Module child) {
        for (Map.Entry<String, Module> e : parent.children().entrySet()) {
            if (e.getValue() == child) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("child not found in its parent");
    }
}
