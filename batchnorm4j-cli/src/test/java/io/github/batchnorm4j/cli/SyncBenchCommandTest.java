package io.github.batchnorm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyncBenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void reportsOneRowPerConfigurationAndWritesMarkdown() throws Exception {
        Path md = dir.resolve("bench-sync.md");
        TrainCommandTest.Run r = TrainCommandTest.run("bench", "sync", "--ranks", "1,2", "--backends", "threads",
                "--layers", "2", "--batch-size", "4", "--channels", "3", "--size", "2", "--warmup", "1", "--steps", "3",
                "--out", md.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*\\| local \\| 1 \\| [0-9.]+ \\| [0-9.]+ \\| -?[0-9.]+ \\| [0-9.]+ \\|.*"),
                r.out());
        assertTrue(r.out().matches("(?s).*\\| threads \\| 2 \\| [0-9.]+ \\| [0-9.]+ \\| -?[0-9.]+ \\| [0-9.]+ \\|.*"),
                r.out());
        assertTrue(Files.readString(md).startsWith("# bn4j bench sync"));
    }

    @Test
    void badSizesAreRejected() {
        TrainCommandTest.Run r = TrainCommandTest.run("bench", "sync", "--layers", "0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("Expected --layers, --batch-size, --channels, --size, --steps > 0 and --warmup"
                + " >= 0, got 0, 32, 64, 8, 200, 100"), r.err());
    }

    @Test
    void noSyncBnNeedsDistributed() {
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--no-sync-bn");
        assertEquals(1, r.code());
        assertEquals("bn4j train: Expected --no-sync-bn together with --distributed, got it alone", r.err().strip());
    }
}
