package io.github.batchnorm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel benchmark's output format and cases (the timings themselves are measurements, not tests). */
class KernelBenchTest {
    @Test
    void jsonRowsHaveTheAgreedFields() {
        String json = KernelBench.toJson(List.of(
                new KernelBench.Row(null, null, "triad", 2, 5.0, 29.5),
                new KernelBench.Row("64x64x56x56", "NCHW", "train_forward", 2, 9.4, 16.5)));
        assertEquals("[\n  {\"op\": \"triad\", \"threads\": 2, \"gbps\": 29.500},\n"
                + "  {\"shape\": \"64x64x56x56\", \"layout\": \"NCHW\", \"op\": \"train_forward\", \"threads\": 2, "
                + "\"median_ms\": 9.40000, \"gbps\": 16.500}\n]", json);
    }

    @Test
    void casesCoverTheBenchmarkShapes() {
        List<String> names = KernelBench.cases().stream().map(c -> c.shape() + "/" + c.layout()).toList();
        assertEquals(List.of("64x64x56x56/NCHW", "64x64x56x56/NHWC", "128x64x28x28/NCHW", "32x256x14x14/NCHW",
                "4096x1024/NC", "60x100/NC"), names);
        for (KernelBench.Case c : KernelBench.cases()) {
            long numel = 1;
            for (String d : c.shape().split("x")) {
                numel *= Integer.parseInt(d);
            }
            assertEquals(numel, c.geometry().numel(), c.shape());
        }
    }
}
