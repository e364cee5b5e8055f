package io.github.batchnorm4j.cli;

import io.github.batchnorm4j.data.DataLocator;
import io.github.batchnorm4j.repro.ClaimResult;
import io.github.batchnorm4j.repro.Plan;
import io.github.batchnorm4j.repro.Criterion;
import io.github.batchnorm4j.repro.ReproData;
import io.github.batchnorm4j.repro.Reproduction;
import io.github.batchnorm4j.repro.Settings;
import io.github.batchnorm4j.repro.report.ReportWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bn4j reproduce}: runs the protocol of claims E1–E8 on Fashion-MNIST and writes the HTML report. */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Reproduces the classic claims about Batch Normalization on Fashion-MNIST (experiments E1-E8 "
                + "of docs/protocol.md) and writes an HTML report with plots, results.json and the raw curves."})
public final class ReproduceCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "One seed, a tenth of the steps (1-2 minutes on 2 cores); gates of its own, verdicts marked quick.")
    boolean quick;

    @Option(names = "--claims", split = ",", paramLabel = "N",
            description = "Claims to run, e.g. 1,3,6 (default: all, 1-8).")
    List<Integer> claims;

    @Option(names = "--seeds", split = ",", paramLabel = "S",
            description = "Seeds (default: 0,1,2; with --quick: the first one).")
    List<Long> seeds;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder with the Fashion-MNIST IDX files (default: $BN4J_DATA, then Debian's "
                    + "dataset-fashion-mnist folder).")
    String data;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "reproduce-out",
            description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--workers", paramLabel = "N",
            description = "Runs executed side by side, one thread each (default: the number of cores).")
    Integer workers;

    @Option(names = "--plan", paramLabel = "FILE",
            description = "Write the runs the protocol executes for the seeds (each seed on its own, one JSON object "
                    + "per line; the input of the PyTorch twin in tools/twin) and exit without running them.")
    Path plan;

    @Override
    public Integer call() throws IOException {
        Set<Integer> chosen = new LinkedHashSet<>(claims == null ? List.of(1, 2, 3, 4, 5, 6, 7, 8) : claims);
        for (int c : chosen) {
            if (c < 1 || c > 8) {
                throw new IllegalArgumentException("Expected --claims between 1 and 8, got " + c);
            }
        }
        if (workers != null && workers < 1) {
            throw new IllegalArgumentException("Expected --workers >= 1, got " + workers);
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("Expected --out to be a folder, got the file " + out);
        }
        List<Long> s = seeds == null ? List.of(0L, 1L, 2L) : seeds;
        if (plan != null) {
            List<io.github.batchnorm4j.repro.RunSpec> runs = Plan.perSeed(s.stream().mapToLong(Long::longValue)
                    .toArray(), quick, chosen);
            io.github.batchnorm4j.io.AtomicFiles.write(plan, Plan.toJsonLines(runs)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            System.out.printf(Locale.ROOT, "Plan: %d runs for seeds %s%s written to %s%n", runs.size(), s,
                    quick ? " (quick)" : "", plan);
            return 0;
        }
        if (quick) {
            s = s.subList(0, 1);
        }
        Settings settings = Settings.of(s.stream().mapToLong(Long::longValue).toArray(), quick);
        DataLocator.Splits splits = DataLocator.load(data, System.getenv(DataLocator.ENV));
        // The protocol's models and step counts are fixed for Fashion-MNIST: refuse other data before hours of work.
        int[] item = splits.train().itemShape();
        if (item.length != 3 || item[0] != 1 || item[1] != 28 || item[2] != 28 || splits.train().numClasses() != 10) {
            throw new IllegalArgumentException("Expected Fashion-MNIST (1x28x28 images, 10 classes) in " + splits.dir()
                    + ", got " + java.util.Arrays.toString(item) + " images in " + splits.train().numClasses()
                    + " classes");
        }
        ReproData rd = new ReproData(splits.train(), splits.test(), "Fashion-MNIST from " + splits.dir());
        int w = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
        System.err.printf(Locale.ROOT, "bn4j reproduce: claims %s, seeds %s%s, %d runs side by side, data %s%n",
                chosen, s, quick ? " (quick)" : "", w, splits.dir());
        Reproduction.Outcome o = Reproduction.run(settings, chosen, rd, w, System.err);
        String version = new Main.Version().getVersion()[0];
        ReportWriter.write(out, o, version, rd.description());
        for (ClaimResult c : o.claims()) {
            System.out.printf(Locale.ROOT, "claim %d %-60s %s%n", c.id(), c.name(),
                    c.passed() == null ? "not yet available" : (c.passed() ? "PASS" : "FAIL") + (quick ? " (quick)" : ""));
            for (Criterion cr : c.criteria()) {
                if (cr.gate() && Boolean.FALSE.equals(cr.passed())) {
                    System.out.printf(Locale.ROOT, "    %s failed: %s = %.4g (threshold %.4g)%n", cr.id(), cr.metric(),
                            cr.value(), cr.threshold());
                }
            }
        }
        System.out.printf(Locale.ROOT, "Report: %s (%.1f minutes)%n", out.resolve("index.html"), o.seconds() / 60);
        return 0;
    }
}
