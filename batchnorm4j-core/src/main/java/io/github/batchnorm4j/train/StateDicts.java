package io.github.batchnorm4j.train;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.Entry;
import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module's state under PyTorch's {@code state_dict} keys, as safetensors entries: parameters and float buffers
 * as F32 (logical, contiguous order), {@code num_batches_tracked} as I64 like PyTorch. Loading is strict: every
 * key of the model must be present with its shape and nothing else, otherwise nothing is changed and the error
 * lists all missing, unexpected and mismatched keys.
 */
public final class StateDicts {
    private StateDicts() {}

    /** The module's state, parameters first, then float buffers, then integer buffers. */
    public static Map<String, Entry> of(Module m) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            out.put(e.getKey(), f32(e.getValue().value()));
        }
        for (Map.Entry<String, Tensor> e : m.namedBuffers().entrySet()) {
            out.put(e.getKey(), f32(e.getValue()));
        }
        for (Map.Entry<String, LongState> e : m.namedLongBuffers().entrySet()) {
            out.put(e.getKey(), Entry.i64(new long[] {e.getValue().get()}));
        }
        return out;
    }

    static Entry f32(Tensor t) {
        return Entry.f32(t.toContiguousArray(), t.shape());
    }

    /** Writes {@code m}'s state to a safetensors file atomically. */
    public static void save(Module m, Path file, Map<String, String> metadata) throws IOException {
        SafeTensors.write(file, of(m), metadata);
    }

    /** Reads a safetensors file into {@code m} (strict, see {@link #load(Module, Map)}). */
    public static void load(Module m, Path file) throws IOException {
        try {
            load(m, SafeTensors.read(file).tensors());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies {@code state} into {@code m}. Checks everything first: on any missing, unexpected or mismatched key
     * (shape or dtype) throws an {@link IllegalArgumentException} listing them all, and leaves {@code m} unchanged.
     */
    public static void load(Module m, Map<String, Entry> state) {
        Map<String, Tensor> floats = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> floats.put(k, p.value()));
        floats.putAll(m.namedBuffers());
        Map<String, LongState> longs = m.namedLongBuffers();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : floats.entrySet()) {
            Entry s = state.get(e.getKey());
            if (s == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(s.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": expected shape " + Arrays.toString(e.getValue().shape()) + ", got "
                        + Arrays.toString(s.shape()));
            } else if (!s.dtype().equals("F32") && !s.dtype().equals("F64")) {
                mismatched.add(e.getKey() + ": expected dtype F32, got " + s.dtype());
            }
        }
        for (String k : longs.keySet()) {
            Entry s = state.get(k);
            if (s == null) {
                missing.add(k);
            } else if (!s.dtype().equals("I64") || s.numel() != 1 || s.shape().length != 0) {
                mismatched.add(k + ": expected an I64 scalar (shape []), got " + s.dtype() + " "
                        + Arrays.toString(s.shape()));
            }
        }
        for (String k : state.keySet()) {
            if (!floats.containsKey(k) && !longs.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            StringBuilder b = new StringBuilder("Expected a state dict matching the model, got");
            String sep = " ";
            if (!missing.isEmpty()) {
                b.append(sep).append(missing.size()).append(" missing ").append(missing);
                sep = "; ";
            }
            if (!unexpected.isEmpty()) {
                b.append(sep).append(unexpected.size()).append(" unexpected ").append(unexpected);
                sep = "; ";
            }
            if (!mismatched.isEmpty()) {
                b.append(sep).append(mismatched.size()).append(" mismatched ").append(mismatched);
            }
            throw new IllegalArgumentException(b.toString());
        }
        for (Map.Entry<String, Tensor> e : floats.entrySet()) {
            float[] src = state.get(e.getKey()).toFloats();
            Tensor dst = e.getValue();
            if (dst.format() == io.github.batchnorm4j.tensor.MemoryFormat.CONTIGUOUS) {
                System.arraycopy(src, 0, dst.data(), 0, src.length);
            } else {
                float[] permuted = Tensor.of(src, dst.shape()).to(dst.format()).data();
                System.arraycopy(permuted, 0, dst.data(), 0, permuted.length);
            }
        }
        for (Map.Entry<String, LongState> e : longs.entrySet()) {
            e.getValue().set(state.get(e.getKey()).toLongs()[0]);
        }
    }
}
