package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class E6SmallBatchTest {

    @Test
    void evaluatesFiveTimesInTheLastFifthEndingAtTheLastStep() {
        assertArrayEquals(new long[] {24_000, 25_500, 27_000, 28_500, 30_000}, E6SmallBatch.lastFifth(30_000));
        assertArrayEquals(new long[] {800, 850, 900, 950, 1000}, E6SmallBatch.lastFifth(1000));
        assertArrayEquals(new long[] {2, 3}, E6SmallBatch.lastFifth(3)); // tiny test scales: no duplicates
        assertArrayEquals(new long[] {1}, E6SmallBatch.lastFifth(1));
    }

    @Test
    void everyE6aRunEndsAtOneEpochAndGatesUseThatStep() {
        Settings s = Settings.of(new long[] {5}, false);
        List<RunSpec> runs = new E6SmallBatch().runs(s);
        long e6a = runs.stream().filter(r -> r.experiment().equals("E6a")).count();
        assertEquals(12, e6a);
        for (RunSpec r : runs) {
            if (r.experiment().equals("E6a")) {
                long[] at = r.evalAt();
                assertEquals(60_000 / r.batchSize(), r.steps(), r.key());
                assertEquals(r.steps(), at[at.length - 1], r.key());
                assertEquals(5, at.length, r.key());
            }
        }
    }
}
