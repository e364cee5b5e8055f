package io.github.batchnorm4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Schedules against their closed forms evaluated independently in the test. */
class LrScheduleTest {
    @Test
    void stepDecay() {
        LrSchedule s = LrSchedule.step(0.1, 3, 0.5);
        double[] want = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], s.lr(i), 1e-15);
        }
    }

    @Test
    void cosineStartsAtLrEndsAtMin() {
        LrSchedule s = LrSchedule.cosine(0.2, 10, 0.02);
        assertEquals(0.2, s.lr(0), 1e-15);
        assertEquals(0.11, s.lr(5), 1e-12); // halfway: midpoint of 0.2 and 0.02
        assertEquals(0.02, s.lr(10), 1e-15);
        assertEquals(0.02, s.lr(11), 1e-15);
    }

    @Test
    void warmupRampsLinearly() {
        LrSchedule s = LrSchedule.constant(0.4).withWarmup(4);
        assertEquals(0.1, s.lr(0), 1e-15);
        assertEquals(0.2, s.lr(1), 1e-15);
        assertEquals(0.4, s.lr(3), 1e-15);
        assertEquals(0.4, s.lr(100), 1e-15);
    }

    @Test
    void rejectsBadArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0.1, 0, 0.5));
        assertEquals("Expected a step size > 0, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, -1, 0));
        assertEquals("Expected total steps > 0, got -1", e.getMessage());
    }
}
