package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.Entry;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    @TempDir
    Path dir;

    /** Two BatchNorms in a row, named "0" and "1" like an nn.Sequential. */
    static final class TwoBn extends Module {
        final BatchNorm a;
        final BatchNorm b;

        TwoBn(int c0, int c1) {
            a = registerModule("0", new BatchNorm(c0));
            b = registerModule("1", new BatchNorm(c1));
        }

        @Override
        public Tensor forward(Tensor x) {
            return b.forward(a.forward(x));
        }

        @Override
        public Tensor backward(Tensor g) {
            return a.backward(b.backward(g));
        }
    }

    static void fill(Module m, float base) {
        int k = 0;
        for (var p : m.namedParameters().values()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = base + k++;
            }
        }
        for (Tensor t : m.namedBuffers().values()) {
            float[] d = t.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = base - k++;
            }
        }
        m.namedLongBuffers().values().forEach(s -> s.set(17));
    }

    @Test
    void roundTripsWithPyTorchKeysAndInt64Counter() throws IOException {
        TwoBn m = new TwoBn(3, 3);
        fill(m, 0.5f);
        Path f = dir.resolve("m.safetensors");
        StateDicts.save(m, f, Map.of("note", "x"));
        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "0.running_mean", "0.running_var",
                "1.running_mean", "1.running_var", "0.num_batches_tracked", "1.num_batches_tracked"),
                List.copyOf(c.tensors().keySet()));
        Entry nbt = c.tensors().get("0.num_batches_tracked");
        assertEquals("I64", nbt.dtype());
        assertArrayEquals(new int[0], nbt.shape());
        TwoBn back = new TwoBn(3, 3);
        StateDicts.load(back, f);
        assertEquals(StateDicts.of(m).keySet(), StateDicts.of(back).keySet());
        StateDicts.of(m).forEach((k, v) -> assertArrayEquals(v.bytes(), StateDicts.of(back).get(k).bytes(), k));
    }

    @Test
    void listsMissingUnexpectedAndMismatchedKeysAndChangesNothing() {
        TwoBn m = new TwoBn(3, 4);
        Map<String, Entry> state = new LinkedHashMap<>(StateDicts.of(new TwoBn(3, 5)));
        state.remove("0.bias");
        state.put("2.weight", Entry.f32(new float[] {1f}, 1));
        state.put("0.num_batches_tracked", Entry.f32(new float[] {1f}));
        fill(m, 2f);
        Map<String, Entry> before = StateDicts.of(m);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(m, state));
        assertEquals("Expected a state dict matching the model, got 1 missing [0.bias]; 1 unexpected [2.weight];"
                + " 5 mismatched [1.weight: expected shape [4], got [5], 1.bias: expected shape [4], got [5],"
                + " 1.running_mean: expected shape [4], got [5], 1.running_var: expected shape [4], got [5],"
                + " 0.num_batches_tracked: expected an I64 scalar (shape []), got F32 []]", e.getMessage());
        before.forEach((k, v) -> assertArrayEquals(v.bytes(), StateDicts.of(m).get(k).bytes(), k));
    }

    @Test
    void checkpointRestoresModelOptimizerAndPosition() throws IOException {
        TwoBn m = new TwoBn(2, 2);
        fill(m, 1f);
        Sgd opt = new Sgd(m.namedParameters(), 0.1, 0.9, 0, false, 0, java.util.Set.of());
        m.namedParameters().values().forEach(p -> java.util.Arrays.fill(p.grad().data(), 0.25f));
        opt.step();
        Path f = dir.resolve(Checkpoint.FILE_NAME);
        Checkpoint.save(f, m, opt, 42, Map.of("seed", "7"));
        TwoBn m2 = new TwoBn(2, 2);
        Sgd opt2 = new Sgd(m2.namedParameters(), 0.1, 0.9, 0, false, 0, java.util.Set.of());
        Map<String, String> meta = Checkpoint.restore(f, m2, opt2);
        assertEquals("42", meta.get("step"));
        assertEquals("7", meta.get("seed"));
        assertEquals("1", meta.get("formatVersion"));
        assertEquals(1, opt2.steps());
        // One more identical step on both must give identical bits (momentum buffers restored).
        for (Module x : new Module[] {m, m2}) {
            x.namedParameters().values().forEach(p -> java.util.Arrays.fill(p.grad().data(), -0.5f));
        }
        opt.step();
        opt2.step();
        StateDicts.of(m).forEach((k, v) -> assertArrayEquals(v.bytes(), StateDicts.of(m2).get(k).bytes(), k));
        opt.state().forEach((k, v) -> assertArrayEquals(v.data(), opt2.state().get(k).data(), k));
    }

    @Test
    void truncatedCheckpointIsRejectedClearly() throws IOException {
        TwoBn m = new TwoBn(2, 2);
        Sgd opt = new Sgd(m.namedParameters(), 0.1);
        Path f = dir.resolve(Checkpoint.FILE_NAME);
        Checkpoint.save(f, m, opt, 0, Map.of());
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 4));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.restore(f, m, opt));
        // Data: 2 BNs x 4 F32 tensors of 2 values (64 bytes) + 2 I64 counters (16 bytes) = 80; 4 bytes cut.
        assertEquals(f + ": tensor 'model.1.num_batches_tracked' ends at byte 80 beyond the data section of 76 bytes"
                + " (truncated file?)", e.getMessage());
    }
}
