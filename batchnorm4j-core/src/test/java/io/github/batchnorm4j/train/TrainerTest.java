package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.data.Idx;
import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end training on a tiny synthetic IDX data set written by the test (8x8 images whose class is a bright
 * quadrant, so a model can actually learn it): determinism, resume, divergence, callbacks and outputs.
 */
class TrainerTest {
    @TempDir
    Path dir;

    /** Writes train/t10k IDX files: n items of 8x8, class k in [0, 4) lights quadrant k, plus noise. */
    static Path synthetic(Path dir, int n, int nTest) throws IOException {
        SplittableRandom rng = new SplittableRandom(123);
        Files.createDirectories(dir);
        for (String prefix : new String[] {"train", "t10k"}) {
            int count = prefix.equals("train") ? n : nTest;
            byte[] px = new byte[count * 64];
            byte[] lb = new byte[count];
            for (int i = 0; i < count; i++) {
                int k = rng.nextInt(4);
                lb[i] = (byte) k;
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        int q = (y / 4) * 2 + x / 4;
                        int v = (q == k ? 160 : 40) + rng.nextInt(60);
                        px[i * 64 + y * 8 + x] = (byte) v;
                    }
                }
            }
            Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {count, 8, 8}, px);
            Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte"), new int[] {count}, lb);
        }
        return dir;
    }

    static RunConfig config(String optimizer, int epochs, long steps, String data) {
        return new RunConfig("mlp", "bn", "relu", 12, optimizer, optimizer.equals("sgd") ? 0.1 : 0.01, 0.9, false,
                1e-3, true, "cosine", 3, 10, 0.5, 16, epochs, steps, 7, 40, true, data);
    }

    static Map<String, SafeTensors.Entry> state(Path out) throws IOException {
        return SafeTensors.read(out.resolve(Checkpoint.FILE_NAME)).tensors();
    }

    static void assertSameBits(Map<String, SafeTensors.Entry> a, Map<String, SafeTensors.Entry> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v.bytes(), b.get(k).bytes(), k));
    }

    static List<Map<?, ?>> metrics(Path out) throws IOException {
        List<Map<?, ?>> l = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            l.add((Map<?, ?>) Json.parse(line));
        }
        return l;
    }

    @Test
    void learnsTheSyntheticTaskAndWritesOutputs() throws IOException {
        Path data = synthetic(dir.resolve("data"), 200, 60);
        Path out = dir.resolve("run");
        TrainingRun run = TrainingRun.create(config("sgd", 4, 0, data.toString()), DataLocator.read(data), out, null,
                false, 5, 0);
        List<String> events = new ArrayList<>();
        run.trainer().addCallback(new TrainerCallback() {
            @Override
            public void beforeTrainStep(Module model, long step, Tensor input) {
                assertTrue(model.isTraining());
                if (step == 0) {
                    events.add("before0");
                }
            }

            @Override
            public void beforeEvaluate(Module model, long step) {
                assertFalse(model.isTraining());
                events.add("eval@" + step);
            }

            @Override
            public void afterEpoch(Module model, int epoch) {
                events.add("epoch" + epoch);
            }
        });
        Trainer.Evaluation val = run.trainer().fit();
        // 160 training items / 16 = 10 steps per epoch, 4 epochs.
        assertEquals(40, run.trainer().step());
        assertEquals(List.of("before0", "eval@10", "epoch0", "eval@20", "epoch1", "eval@30", "epoch2", "eval@40",
                "epoch3"), events);
        assertTrue(val.accuracy() > 0.9, "validation accuracy " + val.accuracy());
        assertEquals(40, val.count());
        Trainer.Evaluation test = run.evaluateTest();
        assertTrue(test.accuracy() > 0.9, "test accuracy " + test.accuracy());
        // model.safetensors holds exactly the model state under PyTorch keys.
        Map<String, SafeTensors.Entry> model = SafeTensors.read(out.resolve("model.safetensors")).tensors();
        assertEquals(StateDicts.of(run.model()).keySet(), model.keySet());
        assertEquals("I64", model.get("2.num_batches_tracked").dtype());
        assertEquals(40, model.get("2.num_batches_tracked").toLongs()[0]);
        List<Map<?, ?>> m = metrics(out);
        assertEquals("train", m.get(0).get("event"));
        assertEquals(5L, m.get(0).get("step"));
        assertEquals("test", m.get(m.size() - 1).get("event"));
        assertEquals(4, m.stream().filter(x -> "eval".equals(x.get("event"))).count());
    }

    @Test
    void sameSeedGivesIdenticalBitsAndResumeContinuesBitIdentically() throws IOException {
        Path data = synthetic(dir.resolve("data"), 200, 20);
        DataLocator.Splits splits = DataLocator.read(data);
        for (String opt : new String[] {"sgd", "adamw"}) {
            Path full = dir.resolve(opt + "-full");
            TrainingRun.create(config(opt, 3, 0, null), splits, full, null, false, 5, 0).trainer().fit();
            Path again = dir.resolve(opt + "-again");
            TrainingRun.create(config(opt, 3, 0, null), splits, again, null, false, 5, 0).trainer().fit();
            assertSameBits(state(full), state(again));

            // Interrupted mid-epoch at step 13 (checkpoint every 13 steps, then stop), resumed to the end.
            Path part = dir.resolve(opt + "-part");
            TrainingRun first = TrainingRun.create(config(opt, 3, 0, null), splits, part, null, false, 5, 13);
            // Stop after step 13 by running a copy of the config whose length is 13 steps but whose schedule is the
            // full run's: emulate with a callback that throws once step 13 has been checkpointed.
            first.trainer().addCallback(new TrainerCallback() {
                @Override
                public void beforeTrainStep(Module model, long step, Tensor input) {
                    if (step == 14) {
                        throw new IllegalStateException("interrupted");
                    }
                }
            });
            assertThrows(IllegalStateException.class, () -> first.trainer().fit());
            assertEquals("13", Checkpoint.metadata(part.resolve(Checkpoint.FILE_NAME)).get("step"));
            RunConfig stored = TrainingRun.storedConfig(part);
            assertEquals(config(opt, 3, 0, null), stored);
            TrainingRun second = TrainingRun.create(stored, splits, part, null, false, 5, 13).resume();
            assertEquals(13, second.trainer().step());
            second.trainer().fit();
            assertSameBits(state(full), state(part));
            assertSameBits(SafeTensors.read(full.resolve("model.safetensors")).tensors(),
                    SafeTensors.read(part.resolve("model.safetensors")).tensors());
            // The resumed metrics read like the uninterrupted run's (timings aside).
            List<Map<?, ?>> a = metrics(full);
            List<Map<?, ?>> b = metrics(part);
            assertEquals(a.size(), b.size());
            for (int i = 0; i < a.size(); i++) {
                assertEquals(a.get(i).get("step"), b.get(i).get("step"));
                assertEquals(a.get(i).get("loss"), b.get(i).get("loss"));
            }
        }
    }

    @Test
    void nanLossStopsNamingTheStepAndKeepsTheCheckpoint() throws IOException {
        Path data = synthetic(dir.resolve("data"), 100, 10);
        Path out = dir.resolve("run");
        RunConfig c = config("sgd", 4, 0, null); // 60 training items: 3 steps per epoch, 12 in all
        TrainingRun run = TrainingRun.create(c, DataLocator.read(data), out, null, false, 5, 4);
        // Poison the output bias just before step 7: the loss of step 7 becomes NaN.
        run.trainer().addCallback(new TrainerCallback() {
            @Override
            public void beforeTrainStep(Module model, long step, Tensor input) {
                if (step == 7) {
                    model.namedParameters().get("10.bias").data()[0] = Float.NaN;
                }
            }
        });
        Path ck = out.resolve(Checkpoint.FILE_NAME);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> run.trainer().fit());
        assertEquals(7, e.step());
        // Checkpoints at steps 3 and 6 (epoch ends) and 4 (every 4): the last one is step 6.
        assertEquals("Loss is NaN at step 7 (epoch 2, batch 1, learning rate " + run.optimizer().lr()
                + "); training stopped, the last checkpoint (step 6) in " + ck + " is intact", e.getMessage());
        assertEquals("6", Checkpoint.metadata(ck).get("step"));
        for (SafeTensors.Entry t : state(out).values()) {
            if (!t.dtype().equals("I64")) {
                for (float v : t.toFloats()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
        assertNotNull(TrainingRun.storedConfig(out));
    }
}
