package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.batchnorm4j.io.Json;
import io.github.batchnorm4j.repro.report.ReportWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole harness, all eight claims, at a tiny scale on synthetic data: every claim is evaluated into
 * criteria with decided verdicts, and the report files have the documented shape. (Whether the claims hold is
 * a property of the real data and the full protocol, not of this test.)
 */
class ReproductionTest {
    @TempDir
    static Path dir;
    static Reproduction.Outcome outcome;

    @BeforeAll
    static void runTiny() throws Exception {
        Settings s = new Settings(new long[] {7, 8}, true, 0.004);
        outcome = Reproduction.run(s, Set.of(1, 2, 3, 4, 5, 6, 7, 8), SyntheticData.make(480, 100, 3), 2,
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        ReportWriter.write(dir, outcome, "test", "synthetic");
    }

    @Test
    void everyClaimIsEvaluatedWithDecidedCriteria() {
        assertEquals(8, outcome.claims().size());
        for (ClaimResult c : outcome.claims()) {
            assertTrue(c.criteria().stream().anyMatch(Criterion::gate), "claim " + c.id() + " has a gate");
            for (Criterion cr : c.criteria()) {
                assertNotNull(cr.passed(), cr.id());
            }
            assertEquals(ClaimResult.verdict(c.criteria()), c.passed());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void resultsJsonHasTheDocumentedShape() throws Exception {
        Map<String, Object> root = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("results.json")));
        assertEquals(List.of(7L, 8L), root.get("seeds"));
        for (String k : List.of("version", "threads", "data", "seconds", "claims")) {
            assertTrue(root.containsKey(k), k);
        }
        List<Object> claims = (List<Object>) root.get("claims");
        assertEquals(8, claims.size());
        Map<String, Object> e1 = (Map<String, Object>) claims.get(0);
        assertEquals("E1", e1.get("experiment"));
        List<Object> crit = (List<Object>) e1.get("criteria");
        Map<String, Object> first = (Map<String, Object>) crit.get(0);
        assertEquals("E1a", first.get("id"));
        for (String k : List.of("gate", "passed", "metric", "value", "threshold", "per_seed")) {
            assertTrue(first.containsKey(k), k);
        }
        assertEquals(2, ((List<Object>) first.get("per_seed")).size());
    }

    @Test
    void reportHoldsEveryPlotAndRawCurves() throws Exception {
        String html = Files.readString(dir.resolve("index.html"));
        for (ClaimResult c : outcome.claims()) {
            for (Plot p : c.plots()) {
                assertTrue(html.contains("id=\"" + p.id() + "\""), p.id());
            }
        }
        assertTrue(outcome.claims().stream().mapToInt(c -> c.plots().size()).sum() >= 12);
        assertTrue(html.contains("<h2 style=\"margin-top:.2em\">In short</h2>"), "the one-screen summary");
        assertTrue(html.contains("claims reproduced"), "the summary says how many claims reproduced");
        assertTrue(html.contains("the papers report"), "the sources' own figures");
        assertTrue(html.contains("PyTorch twin, mean &plusmn; sd"), "ours beside the twin");
        assertTrue(html.contains("stroke-dasharray=\"6 4\""), "plain nets dashed, readable in print");
        assertTrue(html.contains("<circle class=\"pt\"") && html.contains("<title>"), "hover values");
        assertTrue(html.contains("docs/protocol.md"), "the protocol the report follows");
        for (String outside : List.of("shared/", "EXPERIMENTS.md", "this session", "the issue")) {
            assertTrue(!html.contains(outside), "the report refers to nothing outside the project: " + outside);
        }
        List<String> lines = Files.readAllLines(dir.resolve("runs.jsonl"));
        assertTrue(lines.size() > 100);
        for (String l : lines.subList(0, 5)) {
            assertNotNull(Json.parse(l));
        }
    }

    /** Debian's chromium, which .ci/run installs; null when absent. */
    static Path chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        return null;
    }

    @Test
    void rendersInHeadlessChromiumWithoutConsoleErrorsAndEveryPlotDrawn() throws Exception {
        Path browser = chromium();
        assumeTrue(browser != null, "chromium is not installed here (.ci/run installs Debian's chromium)");
        Path profile = Files.createTempDirectory("bn4j-chromium");
        Path err = dir.resolve("chromium.log");
        Process p = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=5000", "--dump-dom", dir.resolve("index.html").toUri().toString())
                .redirectError(err.toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, java.util.concurrent.TimeUnit.SECONDS), "chromium finished");
        int plots = outcome.claims().stream().mapToInt(c -> c.plots().size()).sum();
        assertTrue(dom.contains("data-plots=\"" + plots + "\""), "the page's check script ran and counted "
                + plots + " plots");
        assertTrue(dom.contains("data-plots-drawn=\"" + plots + "\""), "every plot has drawn content");
        List<String> console = Files.readAllLines(err).stream()
                .filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")).toList();
        assertEquals(List.of(), console, "console messages of the report page");
    }
}
