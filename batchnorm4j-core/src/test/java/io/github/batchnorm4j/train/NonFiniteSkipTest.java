package io.github.batchnorm4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --on-nonfinite skip}: a step with a NaN loss or a non-finite gradient is thrown away bit for bit (weights,
 * optimizer state and step count, running statistics, {@code num_batches_tracked}), counted, and training goes on;
 * too many in a row stop it.
 */
class NonFiniteSkipTest {
    @TempDir
    Path dir;

    /** A run without the diagnostics (their probes wrap layers during a step, which would rename the state). */
    static TrainingRun run(RunConfig c, DataLocator.Splits splits, Path out, int logEvery, long checkpointEvery)
            throws IOException {
        return TrainingRun.create(c, NormVariantConfig.DEFAULT, null, false, splits, out, null, false, logEvery,
                checkpointEvery);
    }

    /** Every bit of the training state: parameters, buffers, integer buffers, optimizer slots and step count. */
    static Map<String, int[]> state(Module model, io.github.batchnorm4j.optim.Optimizer opt) {
        Map<String, int[]> s = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> s.put("param " + k, bits(p.data())));
        model.namedBuffers().forEach((k, t) -> s.put("buffer " + k, bits(t.data())));
        model.namedLongBuffers().forEach((k, l) -> s.put("long " + k, new int[] {(int) l.get(), (int) (l.get() >> 32)}));
        opt.state().forEach((k, t) -> s.put("optimizer " + k, bits(t.data())));
        s.put("optimizer steps", new int[] {(int) opt.steps()});
        return s;
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    static void assertSameState(Map<String, int[]> a, Map<String, int[]> b) {
        assertEquals(a.keySet(), b.keySet());
        a.forEach((k, v) -> assertArrayEquals(v, b.get(k), k));
    }

    /** Records the state before each step and optionally poisons the step's input with NaN. */
    static final class Recorder implements TrainerCallback {
        final Map<Long, Map<String, int[]>> before = new HashMap<>();
        final io.github.batchnorm4j.optim.Optimizer opt;
        final Set<Long> poison;

        Recorder(io.github.batchnorm4j.optim.Optimizer opt, Set<Long> poison) {
            this.opt = opt;
            this.poison = poison;
        }

        @Override
        public void beforeTrainStep(Module model, long step, Tensor input) {
            before.put(step, state(model, opt));
            if (poison.contains(step)) {
                input.data()[3] = Float.NaN;
            }
        }
    }

    @Test
    void aNanLossStepIsDiscardedBitForBitWithSgdMomentumAndAdam() throws IOException {
        DataLocator.Splits splits = DataLocator.read(TrainerTest.synthetic(dir.resolve("data"), 200, 20));
        for (String opt : new String[] {"sgd", "adam"}) {
            RunConfig c = TrainerTest.config(opt, 2, 0, null); // 10 steps per epoch, 20 in all
            TrainingRun run = run(c, splits, dir.resolve(opt), 1, 0);
            run.trainer().onNonFinite(Trainer.NonFinitePolicy.SKIP, 3);
            Recorder rec = new Recorder(run.optimizer(), Set.of(5L, 9L));
            run.trainer().addCallback(rec);
            run.trainer().fit();
            assertEquals(20, run.trainer().step());
            assertEquals(2, run.trainer().skippedSteps());
            // Step 5 and step 9 (the last of epoch 0, so an evaluation and a checkpoint follow it) left no trace.
            assertSameState(rec.before.get(5L), rec.before.get(6L));
            assertSameState(rec.before.get(9L), rec.before.get(10L));
            // ...while an ordinary step changes running statistics, num_batches_tracked, weights and optimizer state.
            Map<String, int[]> s4 = rec.before.get(4L);
            Map<String, int[]> s5 = rec.before.get(5L);
            for (String k : s4.keySet()) {
                assertFalse(java.util.Arrays.equals(s4.get(k), s5.get(k)), opt + ": step 4 did not change " + k);
            }
            assertTrue(Double.isFinite(run.trainer().lastLoss()));
            List<Map<?, ?>> skips = TrainerTest.metrics(dir.resolve(opt)).stream()
                    .filter(m -> "skip".equals(m.get("event"))).toList();
            assertEquals(2, skips.size());
            assertEquals(6L, skips.get(0).get("step"));
            assertEquals("Loss is NaN", skips.get(0).get("reason"));
            assertEquals("2", Checkpoint.metadata(dir.resolve(opt).resolve(Checkpoint.FILE_NAME))
                    .get(Trainer.SKIPPED_KEY));
        }
    }

    @Test
    void skipWithNothingNonFiniteGivesTheSameBitsAsStop() throws IOException {
        DataLocator.Splits splits = DataLocator.read(TrainerTest.synthetic(dir.resolve("data"), 200, 20));
        RunConfig c = TrainerTest.config("adamw", 2, 0, null);
        run(c, splits, dir.resolve("stop"), 5, 0).trainer().fit();
        TrainingRun skip = run(c, splits, dir.resolve("skip"), 5, 0);
        skip.trainer().onNonFinite(Trainer.NonFinitePolicy.SKIP, 1).fit();
        assertEquals(0, skip.trainer().skippedSteps());
        TrainerTest.assertSameBits(TrainerTest.state(dir.resolve("stop")), TrainerTest.state(dir.resolve("skip")));
    }

    /** Wraps a layer; when armed, its backward receives a gradient with one +Infinity (the forward is untouched). */
    static final class InfiniteGradient extends Module {
        final Module inner;
        boolean armed;
        Tensor poisoned;

        InfiniteGradient(Module inner) {
            this.inner = registerModule("inner", inner);
        }

        @Override
        public Tensor forward(Tensor input) {
            return inner.forward(input);
        }

        @Override
        public Tensor backward(Tensor g) {
            if (!armed) {
                return inner.backward(g);
            }
            poisoned = g.copy();
            poisoned.data()[0] = Float.POSITIVE_INFINITY;
            return inner.backward(poisoned);
        }
    }

    @Test
    void aFiniteLossWithANonFiniteGradientIsDiscardedToo() throws IOException {
        DataLocator.Splits splits = DataLocator.read(TrainerTest.synthetic(dir.resolve("data"), 200, 20));
        TrainingRun run = run(TrainerTest.config("sgd", 1, 0, null), splits, dir.resolve("g"), 1, 0);
        InfiniteGradient wrap = new InfiniteGradient(((Sequential) run.model()).get(10));
        run.model().replaceChild("10", wrap);
        run.trainer().onNonFinite(Trainer.NonFinitePolicy.SKIP, 2);
        Recorder rec = new Recorder(run.optimizer(), Set.of());
        double[] losses = new double[10];
        run.trainer().addCallback(rec).addCallback(new TrainerCallback() {
            @Override
            public void beforeTrainStep(Module model, long step, Tensor input) {
                wrap.armed = step == 3;
            }

            @Override
            public void afterTrainStep(Module model, long step, double loss) {
                losses[(int) step] = loss;
            }
        });
        run.trainer().fit();
        assertEquals(1, run.trainer().skippedSteps());
        assertSameState(rec.before.get(3L), rec.before.get(4L));
        assertEquals(0.0, losses[3]); // afterTrainStep is not called for a skipped step
        List<Map<?, ?>> skips = TrainerTest.metrics(dir.resolve("g")).stream()
                .filter(m -> "skip".equals(m.get("event"))).toList();
        assertEquals("A gradient is NaN or infinite", skips.get(0).get("reason"));
    }

    @Test
    void tooManySkipsInARowStopWithAMessageAndKeepTheCheckpoint() throws IOException {
        DataLocator.Splits splits = DataLocator.read(TrainerTest.synthetic(dir.resolve("data"), 200, 20));
        Path out = dir.resolve("run");
        TrainingRun run = run(TrainerTest.config("sgd", 2, 0, null), splits, out, 1, 2);
        run.trainer().onNonFinite(Trainer.NonFinitePolicy.SKIP, 4);
        // Steps 3 and 5..8 are poisoned: 3 alone is skipped, then the fourth in a row (step 8) stops training.
        Recorder rec = new Recorder(run.optimizer(), Set.of(3L, 5L, 6L, 7L, 8L, 9L));
        run.trainer().addCallback(rec);
        Path ck = out.resolve(Checkpoint.FILE_NAME);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> run.trainer().fit());
        assertEquals(8, e.step());
        assertEquals("Loss is NaN at step 8 (epoch 0, batch 8, learning rate " + run.optimizer().lr()
                + "); skipped steps in a row: 4, the limit; training stopped, the last checkpoint (step 8) in " + ck
                + " is intact", e.getMessage());
        assertEquals(5, run.trainer().skippedSteps());
        // The model is left as it was before the first of the four skipped steps.
        assertSameState(rec.before.get(5L), state(run.model(), run.optimizer()));
        assertNotEquals(null, Checkpoint.metadata(ck));
        assertThrows(IllegalArgumentException.class,
                () -> run.trainer().onNonFinite(Trainer.NonFinitePolicy.SKIP, 0));
    }

    @Test
    void theGuardAllocatesNothingPerStep() throws IOException {
        DataLocator.Splits splits = DataLocator.read(TrainerTest.synthetic(dir.resolve("data"), 60, 10));
        TrainingRun run = run(TrainerTest.config("sgd", 1, 0, null), splits, null, 1, 0);
        NonFiniteGuard g = new NonFiniteGuard(run.model());
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        boolean ok = true;
        for (int i = 0; i < 20_000; i++) { // warm up: let the JIT compile the three methods
            g.snapshot();
            g.restore();
            ok &= g.gradientsFinite();
        }
        long before = bean.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1000; i++) {
            g.snapshot();
            g.restore();
            ok &= g.gradientsFinite();
        }
        long bytes = bean.getCurrentThreadAllocatedBytes() - before;
        assertTrue(ok);
        assertEquals(0, bytes, "bytes allocated by 1000 snapshot/restore/check rounds");
    }

    @Test
    void theFinitenessCheckFindsEveryKindOfNonFiniteValueAnywhere() {
        float[] a = new float[37];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i) * 3e38f;
        }
        assertTrue(NonFiniteGuard.finite(a));
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001),
            Float.intBitsToFloat(0xff800001)};
        for (float v : bad) {
            for (int at : new int[] {0, 17, 36}) {
                float[] b = a.clone();
                b[at] = v;
                assertFalse(NonFiniteGuard.finite(b), v + " at " + at);
            }
        }
        assertTrue(NonFiniteGuard.finite(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0f}));
    }
}
