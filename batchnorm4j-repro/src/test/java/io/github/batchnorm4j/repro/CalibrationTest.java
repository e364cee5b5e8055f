package io.github.batchnorm4j.repro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The committed twin results, the calibration and the shipped gate table reproduce each other: calibrating the
 * twin's results again gives exactly the table {@code reproduce} judges with, and the generated section of
 * docs/protocol.md shows that table.
 */
class CalibrationTest {
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @Test
    void theShippedGateTableIsWhatTheTwinsResultsGive() throws Exception {
        GateTable computed = Calibration.compute(ROOT.resolve("tools/twin"));
        String shipped;
        try (InputStream in = GateTable.class.getResourceAsStream("gates.tsv")) {
            assertTrue(in != null, "gates.tsv is shipped");
            shipped = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(computed.format(), shipped);
        String doc = Files.readString(ROOT.resolve("docs/protocol.md"));
        assertEquals(ProtocolTable.splice(doc, ProtocolTable.markdown(computed)), doc,
                "docs/protocol.md shows the calibrated table");
        for (GateTable.Gate g : computed.all()) {
            assertEquals(10, g.twinN(), g.id() + ": ten twin seeds");
            assertEquals(g.mode().equals("full") && g.kind().equals("mean") ? 120 : 10, g.sampledN(), g.id());
        }
    }
}
