package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.dist.ThreadCommunicator;
import io.github.batchnorm4j.kernel.WorkerPool;
import io.github.batchnorm4j.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real trainer, data-parallel over thread ranks: 2 ranks x batch 32 for 10 steps equal 1 process x batch 64
 * (weights and buffers within 1e-5, the logged global loss within 1e-5), and only rank 0 writes files.
 */
class DistributedTrainingTest {
    @TempDir
    Path dir;

    private final int threadsBefore = WorkerPool.threads();

    @AfterEach
    void restoreThreads() {
        WorkerPool.setThreads(threadsBefore);
    }

    private static RunConfig config(int batch, String data) {
        return new RunConfig("mlp", "bn", "relu", 12, "sgd", 0.1, 0.9, false, 1e-3, true, "cosine", 3, 10, 0.5, batch,
                0, 10, 7, 40, true, data);
    }

    private static float[] state(Module m) {
        List<float[]> parts = new ArrayList<>();
        m.namedParameters().values().forEach(p -> parts.add(p.data()));
        m.namedBuffers().values().forEach(t -> parts.add(t.data()));
        float[] out = new float[parts.stream().mapToInt(a -> a.length).sum()];
        int o = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        return out;
    }

    private static List<Double> losses(Path out) throws IOException {
        List<Double> l = new ArrayList<>();
        for (Map<?, ?> m : TrainerTest.metrics(out)) {
            if ("train".equals(m.get("event"))) {
                l.add(((Number) m.get("loss")).doubleValue());
            }
        }
        return l;
    }

    @Test
    void twoRanksOfBatch32FollowOneProcessOfBatch64() throws IOException {
        WorkerPool.setThreads(1); // the ranks are threads themselves
        Path data = TrainerTest.synthetic(dir.resolve("data"), 200, 20);
        DataLocator.Splits splits = DataLocator.read(data);
        TrainingRun single = TrainingRun.create(config(64, data.toString()), splits, dir.resolve("single"), null,
                false, 1, 0);
        single.trainer().fit();
        float[] expected = state(single.model());
        Path distOut = dir.resolve("dist");
        List<float[]> ranks = ThreadCommunicator.run(2, Duration.ofSeconds(120), c -> {
            TrainingRun r = TrainingRun.create(config(32, data.toString()), splits, distOut, null, false, 1, 0, c,
                    true);
            try {
                r.trainer().fit();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return state(r.model());
        });
        assertArrayEquals(ranks.get(0), ranks.get(1), "the replicas must stay identical");
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - ranks.get(0)[i]));
        }
        assertTrue(max <= 1e-5, "max weight difference " + max);
        List<Double> a = losses(dir.resolve("single"));
        List<Double> b = losses(distOut);
        assertEquals(10, a.size());
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i), b.get(i), 1e-5, "global loss at step " + (i + 1));
        }
        assertTrue(Files.isRegularFile(distOut.resolve("model.safetensors")));
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith("dist") && !p.equals(distOut)));
        }
    }
}
