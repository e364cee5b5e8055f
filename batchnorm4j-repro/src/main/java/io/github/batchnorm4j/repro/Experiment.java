package io.github.batchnorm4j.repro;

import java.util.List;

/** One experiment of the protocol: the runs it needs and how their results become a verdict on its claim. */
public interface Experiment {
    /** "E1" ... "E8". */
    String id();

    /** The claim number (1-8) in docs/protocol.md. */
    int claim();

    String name();

    /** Every run the evaluation reads, including runs it shares with other experiments (deduplicated by key). */
    List<RunSpec> runs(Settings s);

    ClaimResult evaluate(Settings s, Results r, ReproData data);
}
