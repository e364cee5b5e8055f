package io.github.batchnorm4j.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.train.Checkpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The fuzzers' findings, each as a plain test of the fixed behaviour (the inputs also stay in the seed corpus as
 * {@code finding-*}, where the fuzz targets' regression mode replays them).
 */
class FuzzFindingsTest {
    static byte[] input(String target, String method, String name) throws IOException {
        try (InputStream in = FuzzFindingsTest.class.getResourceAsStream(target + "Inputs/" + method + "/" + name)) {
            return in.readAllBytes();
        }
    }

    /** A checkpoint with an optimizer slot of an unknown parameter: the message named the slot but not the file. */
    @Test
    void unexpectedOptimizerStateNamesTheCheckpointFile() throws IOException {
        Path f = FuzzSupport.file(Checkpoint.FILE_NAME,
                input("CheckpointFuzzTest", "checkpoint", "finding-unexpected-optimizer-key"));
        IOException e = assertThrows(IOException.class,
                () -> Checkpoint.restore(f, CheckpointFuzzTest.MODEL, CheckpointFuzzTest.OPTIMIZER));
        assertTrue(e.getMessage().startsWith(f + ": Expected optimizer state ["), e.getMessage());
        assertTrue(e.getMessage().contains("got unexpected '2.we*ght.momentum_buffer'"), e.getMessage());
    }
}
