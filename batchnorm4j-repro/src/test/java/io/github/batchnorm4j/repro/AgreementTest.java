package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class AgreementTest {
    private static GateTable.Gate gate(String kind, double mean, double sd) {
        return new GateTable.Gate("X", "full", kind, false, 0.1, 0.05, 0.1, "kept", 10, mean, sd, 10, mean, sd, 10);
    }

    private static Criterion perSeed(double... v) {
        return new Criterion("X", true, true, "m", Double.NaN, 0.1, v, false);
    }

    private static final Settings THREE = Settings.of(new long[] {1, 2, 3}, false);

    @Test
    void ourMeanIsComparedWithTheTwinsMeanWithinThreeStandardErrors() {
        // band = 3 * 0.01 / sqrt(3) = 0.017320...
        assertEquals(Boolean.TRUE, Agreement.agrees(perSeed(0.51, 0.51, 0.51), gate("per_seed", 0.5, 0.01), THREE));
        assertEquals(Boolean.TRUE, Agreement.agrees(perSeed(0.517, 0.517, 0.517), gate("per_seed", 0.5, 0.01), THREE));
        assertEquals(Boolean.FALSE, Agreement.agrees(perSeed(0.518, 0.518, 0.518), gate("per_seed", 0.5, 0.01), THREE));
        assertEquals(Boolean.FALSE, Agreement.agrees(perSeed(0.48, 0.48, 0.48), gate("per_seed", 0.5, 0.01), THREE));
    }

    @Test
    void aSingleNumberOnAMeanGateCountsEverySeed() {
        Criterion one = new Criterion("X", true, true, "m", 0.515, 0.1, new double[0], false);
        assertEquals(3, Agreement.seeds(one, gate("mean", 0.5, 0.01), THREE));
        assertEquals(Boolean.TRUE, Agreement.agrees(one, gate("mean", 0.5, 0.01), THREE));
        assertEquals(1, Agreement.seeds(one, gate("one_seed", 0.5, 0.01), THREE));
    }

    @Test
    void aTwinWithoutSpreadOrANonFiniteValueGivesNoVerdict() {
        assertNull(Agreement.agrees(perSeed(0.1002, 0.1002, 0.1002), gate("per_seed", 0.1, 1.46285e-17), THREE));
        assertNull(Agreement.agrees(perSeed(0.5, Double.POSITIVE_INFINITY, 0.5), gate("per_seed", 0.5, 0.01), THREE));
        assertNull(Agreement.agrees(perSeed(0.5), gate("per_seed", 0.5, Double.NaN), THREE));
        assertNull(Agreement.agrees(perSeed(0.5), null, THREE));
    }
}
