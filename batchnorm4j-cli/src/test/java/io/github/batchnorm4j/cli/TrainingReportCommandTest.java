package io.github.batchnorm4j.cli;

import static io.github.batchnorm4j.cli.TrainCommandTest.data;
import static io.github.batchnorm4j.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every training run writes report.html; it renders in headless Chromium with every plot drawn. */
class TrainingReportCommandTest {
    @TempDir
    Path dir;

    static Path chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        return null;
    }

    static int count(String s, String what) {
        return s.split(java.util.regex.Pattern.quote(what), -1).length - 1;
    }

    @Test
    void aRunWritesASelfContainedReportThatRendersInHeadlessChromium() throws Exception {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Path out = dir.resolve("run");
        // batch 10: the small-batch diagnostic fires, and the report must show it with its remedies
        TrainCommandTest.Run r = run("train", "--data", d.toString(), "--model", "mlp", "--width", "8", "--batch-size",
                "10", "--validation", "20", "--epochs", "3", "--track", "3", "--track-every", "2", "--no-progress",
                "--threads", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("finished at step 30 of 30"), html);
        assertTrue(html.contains("<b>Test: accuracy "), html);
        for (String id : List.of("loss", "accuracy", "lr", "mean-2", "var-2", "gamma-2", "beta-2", "mean-8",
            "beta-8", "act-3")) {
            assertTrue(html.contains("<svg class=\"plot\" id=\"" + id + "\""), id);
        }
        assertTrue(html.contains("<li>Small-batch statistics: BatchNorm &#39;2&#39;") || html.contains(
                "<li>Small-batch statistics: BatchNorm '2' from 10 samples (batch 10)"), html);
        assertTrue(html.contains("FrozenBatchNorm when fine-tuning"), "remedies in the report");
        assertFalse(html.contains("refresh"), "the final page does not reload itself");
        assertFalse(html.contains("src=") || html.contains("href=") || html.contains("@import"), "no external resource");
        int plots = count(html, "<svg class=\"plot\"");
        assertEquals(3 + 3 * 4 + 1, plots, "curves, 3 BN layers x (mean, var, gamma, beta), one tracked layer");

        Path browser = chromium();
        assumeTrue(browser != null, "chromium is not installed here (.ci/run installs Debian's chromium)");
        Path profile = Files.createTempDirectory("bn4j-chromium");
        Path err = dir.resolve("chromium.log");
        Process p = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=5000", "--dump-dom", out.resolve("report.html").toUri().toString())
                .redirectError(err.toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
        assertTrue(dom.contains("data-plots=\"" + plots + "\""), "the page's check script ran and counted " + plots
                + " plots");
        assertTrue(dom.contains("data-plots-drawn=\"" + plots + "\""), "every plot has drawn content");
        List<String> console = Files.readAllLines(err).stream()
                .filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")).toList();
        assertEquals(List.of(), console, "console messages of the report page");
    }

    @Test
    void theReportIsWrittenWhileTrainingSoADivergedRunLeavesOne() throws IOException {
        Path d = data(Files.createDirectories(dir.resolve("d")));
        Path out = dir.resolve("nan");
        TrainCommandTest.Run r = run("train", "--data", d.toString(), "--norm", "none", "--width", "8", "--batch-size",
                "10", "--validation", "20", "--lr", "1e30", "--momentum", "0", "--warmup-steps", "0", "--schedule",
                "constant", "--steps", "20", "--no-progress", "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("in progress: step "), html);
        assertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"15\">"), "an open page reloads itself");
        assertTrue(html.contains("The model has no normalization layer."), html);
    }
}
