package io.github.batchnorm4j.repro;

import java.util.List;

/**
 * The outcome of one experiment for one claim: its criteria, plots, a table of figures and prose.
 * {@code passed} is true when every gating criterion passed, false when one failed, and null when a building
 * block is missing.
 */
public record ClaimResult(int id, String experiment, String name, Boolean passed, double seconds,
                          List<Criterion> criteria, List<Plot> plots, List<List<String>> table, String claim,
                          String setup, String findings) {

    /** true when all gates pass, false when any gate fails, null when any gate is undecided and none failed. */
    public static Boolean verdict(List<Criterion> criteria) {
        boolean undecided = false;
        for (Criterion c : criteria) {
            if (!c.gate()) {
                continue;
            }
            if (c.passed() == null) {
                undecided = true;
            } else if (!c.passed()) {
                return false;
            }
        }
        return undecided ? null : true;
    }
}
