package io.github.batchnorm4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.tensor.MemoryFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every committed PyTorch golden case (golden/cases at the repository root, written by
 * tools/golden/generate.py) through {@link GoldenRunner}, the code {@code bn4j verify-golden} uses.
 */
class CommittedGoldenCasesTest {
    /** Surefire runs in the module directory; the cases live at the repository root. */
    static final Path CASES = Path.of("..", "golden", "cases");

    @TestFactory
    Stream<DynamicTest> everyCommittedCasePasses() throws IOException {
        List<Path> files = GoldenCase.list(CASES);
        assertTrue(files.size() >= 60, "Expected the committed golden cases in " + CASES + ", got " + files.size());
        return files.stream().map(f -> DynamicTest.dynamicTest(GoldenCase.nameOf(f), () -> {
            GoldenResult r = GoldenRunner.run(GoldenCase.read(f));
            assertTrue(r.passed(), r.line());
        }));
    }

    /**
     * The masked cases reach every op, both layouts and a running update; the fully valid mask's expected tensors
     * (computed by the generator from the masked definition) equal PyTorch's own unmasked BatchNorm on the same
     * inputs, which checks the definition the masked expectations come from.
     */
    @Test
    void maskedCasesCoverTheOpsAndAFullMaskIsTheUnmaskedCase() throws IOException {
        Set<GoldenOp> ops = EnumSet.noneOf(GoldenOp.class);
        Set<MemoryFormat> formats = EnumSet.noneOf(MemoryFormat.class);
        boolean tracked = false;
        for (Path f : GoldenCase.list(CASES)) {
            GoldenCase c = GoldenCase.read(f);
            if (c.masked()) {
                ops.add(c.op());
                formats.add(c.memoryFormat());
                tracked |= c.trackRunningStats() && c.training();
            }
        }
        assertEquals(EnumSet.allOf(GoldenOp.class), ops);
        assertEquals(EnumSet.allOf(MemoryFormat.class), formats);
        assertTrue(tracked, "a masked running update");
        GoldenCase all = GoldenCase.read(CASES.resolve("bn1d_masked_all_train" + GoldenCase.SUFFIX));
        GoldenCase plain = GoldenCase.read(CASES.resolve("bn1d_train" + GoldenCase.SUFFIX));
        for (float v : all.tensor("mask").data()) {
            assertEquals(1f, v);
        }
        for (String name : plain.tensorNames()) {
            assertArrayEquals(plain.tensor(name).data(), all.tensor(name).data(), name);
        }
    }

    /** The set is only useful if it reaches every op and both layouts, with and without state and affine. */
    @Test
    void committedCasesCoverOpsLayoutsAndModes() throws IOException {
        Set<GoldenOp> ops = EnumSet.noneOf(GoldenOp.class);
        Set<MemoryFormat> formats = EnumSet.noneOf(MemoryFormat.class);
        boolean eval = false, cumulative = false, noAffine = false, tracked = false, evalWithoutStats = false;
        for (Path f : GoldenCase.list(CASES)) {
            GoldenCase c = GoldenCase.read(f);
            ops.add(c.op());
            formats.add(c.memoryFormat());
            eval |= !c.training() && c.trackRunningStats();
            evalWithoutStats |= !c.training() && !c.trackRunningStats() && c.op() == GoldenOp.BATCH_NORM;
            cumulative |= c.trackRunningStats() && c.momentum() == null && c.numBatchesTracked() > 0;
            noAffine |= !c.affine();
            tracked |= c.trackRunningStats() && c.training();
        }
        assertEquals(EnumSet.allOf(GoldenOp.class), ops);
        assertEquals(EnumSet.allOf(MemoryFormat.class), formats);
        assertTrue(eval && evalWithoutStats && cumulative && noAffine && tracked,
                "eval=" + eval + " evalWithoutStats=" + evalWithoutStats + " cumulative=" + cumulative
                        + " noAffine=" + noAffine + " trackedTraining=" + tracked);
    }
}
