package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The calibration rule on hand-made twin values: kept, moved by one sd, stopped at the floor, tightened. */
class CalibrationRuleTest {
    private static Criterion atLeast(String id, double t) {
        return new Criterion(id, true, true, "m", 0, t, new double[0], false);
    }

    private static Criterion atMost(String id, double t) {
        return new Criterion(id, true, true, "m", 0, t, new double[0], true);
    }

    private static double sd(double... v) {
        return Calibration.sd(v);
    }

    @Test
    void aGateTheTwinPassesEverywhereKeepsItsThreshold() {
        double[] v = {0.2, 0.25, 0.3};
        GateTable.Gate g = Calibration.gate(atLeast("E1a", 0.10), GateRules.rule("E1a"), false, v, v);
        assertEquals("kept", g.status());
        assertEquals(0.10, g.threshold());
        assertEquals(3, g.twinPass());
        assertEquals(0.25, g.twinMean(), 1e-12);
    }

    @Test
    void aGateTheTwinFailsMovesToItsWorstValueMinusOneSd() {
        double[] v = {0.09, 0.1, 0.11, 0.12};
        GateTable.Gate g = Calibration.gate(atLeast("E1a", 0.10), GateRules.rule("E1a"), false, v, v);
        assertEquals("moved", g.status());
        double expected = Calibration.round(0.09 - sd(v), false);
        assertEquals(expected, g.threshold(), 1e-12);
        assertTrue(g.threshold() <= 0.09 - sd(v) + 1e-12, "rounded outwards, never tighter than the rule");
        assertEquals(4, g.twinPass());
        // <= gates move up by one sd.
        double[] w = {0.010, 0.012, 0.016};
        GateTable.Gate h = Calibration.gate(atMost("E6a-a-gn", 0.015), GateRules.rule("E6a-a-gn"), false, w, w);
        assertEquals("moved", h.status());
        assertEquals(Calibration.round(0.016 + sd(w), true), h.threshold(), 1e-12);
    }

    @Test
    void aMovedGateStopsAtTheClaimsFloor() {
        double[] v = {0.0, 0.12, 0.3}; // worst - sd is far below E1a's floor of 5 points
        GateTable.Gate g = Calibration.gate(atLeast("E1a", 0.10), GateRules.rule("E1a"), false, v, v);
        assertEquals("floor", g.status());
        assertEquals(0.05, g.threshold());
        assertEquals(2, g.twinPass(), "the twin itself fails the gate at its floor once");
        double[] nan = {0.9, Double.NaN, 0.9}; // a diverged run cannot be moved past
        GateTable.Gate n = Calibration.gate(atLeast("E2b", 0.86), GateRules.rule("E2b"), false, nan, nan);
        assertEquals("floor", n.status());
        assertEquals(0.84, n.threshold());
        GateTable.Gate q = Calibration.gate(atLeast("E2b", 0.86), GateRules.rule("E2b"), true, nan, nan);
        assertEquals(0.80, q.threshold(), "quick mode has its own floor");
    }

    @Test
    void aProtocolGateLooserThanItsFloorIsTightened() {
        double[] v = {0.08, 0.1, 0.2};
        GateTable.Gate g = Calibration.gate(atLeast("E6b-brn", 0.03), GateRules.rule("E6b-brn"), false, v, v);
        assertEquals("tightened", g.status());
        assertEquals(0.05, g.threshold());
    }

    @Test
    void ratioPairsKeepTheirSubstance() {
        Map<String, GateTable.Gate> out = new LinkedHashMap<>();
        out.put("E1b-bn", new GateTable.Gate("E1b-bn", "full", "per_seed", true, 600, Double.NaN, 900, "moved", 10,
                0, 0, 10, 0, 0, 10));
        out.put("E1b-none", new GateTable.Gate("E1b-none", "full", "per_seed", false, 1500, Double.NaN, 1500, "kept",
                10, 0, 0, 10, 0, 0, 10));
        Calibration.keepRatio(out, GateRules.rule("E1b-bn"), Map.of("E1b-bn", new double[] {300, 400, 800}));
        assertEquals(750, out.get("E1b-bn").threshold(), 1e-9);
        assertEquals("floor", out.get("E1b-bn").status());
        assertEquals(2, out.get("E1b-bn").twinPass());
    }

    @Test
    void theTableRoundTripsAndJudgesWithItsThresholds() {
        GateTable t = new GateTable(List.of(new GateTable.Gate("E3b", "full", "per_seed", false, 0.80, 0.75, 0.78,
                "moved", 10, 0.85, 0.01, 10, 0.79, 0.01, 10)));
        GateTable back = GateTable.parse(t.format());
        assertEquals(t.format(), back.format());
        Settings full = Settings.of(new long[] {1, 2}, false);
        Criterion c = new Criterion("E3b", true, false, "BN acc", 0.79, 0.80, new double[] {0.79, 0.9}, false);
        ClaimResult judged = back.apply(full, new ClaimResult(3, "E3", "x", false, 0, List.of(c), List.of(),
                List.of(), "", "", ""));
        assertTrue(judged.passed());
        assertEquals(0.78, judged.criteria().get(0).threshold());
        Criterion stale = new Criterion("E3b", true, false, "BN acc", 0.79, 0.81, new double[] {0.79}, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> back.apply(full,
                new ClaimResult(3, "E3", "x", false, 0, List.of(stale), List.of(), List.of(), "", "", "")));
        assertEquals("gates.tsv is stale for E3b (full): protocol threshold 0.8 there, 0.81 in the code; run "
                + "tools/twin/calibrate", e.getMessage());
        Criterion other = new Criterion("E3a", true, true, "no BN max", 0.1, 0.2, new double[] {0.1}, true);
        assertThrows(IllegalStateException.class, () -> back.apply(full, new ClaimResult(3, "E3", "x", false, 0,
                List.of(c, other), List.of(), List.of(), "", "", "")), "a gate the table lacks is an error");
        Settings quick = Settings.of(new long[] {1}, true);
        assertEquals(0.80, back.apply(quick, new ClaimResult(3, "E3", "x", false, 0, List.of(c), List.of(), List.of(),
                "", "", "")).criteria().get(0).threshold(), "a mode the table does not calibrate keeps the protocol's");
        assertFalse(GateTable.parse(GateTable.HEADER + "\n").all().iterator().hasNext());
    }

    @Test
    void everyGateOfTheExperimentsHasARule() {
        for (String id : GateRules.RULES.keySet()) {
            assertTrue(id.startsWith("E"));
        }
        assertThrows(IllegalStateException.class, () -> GateRules.rule("E9x"));
    }
}
