package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.data.CsvTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@link CsvTable#read} as {@code bn4j train --data x.csv --label label} does, strict and with {@code --skip-bad},
 * and as {@code predict} does with a trained model's classes and columns: loads, or throws an {@link IOException}
 * naming the file. Allocation bound: {@value #PER_BYTE} bytes per input byte plus 1 MiB (per two-byte row: its
 * line, the field list, one float array and the label string; the reader's buffers).
 */
public class CsvTableFuzzTest {
    static final long PER_BYTE = 600;

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("table.csv", data);
        FuzzSupport.bounded("CsvTable.read", data.length, PER_BYTE * 3, 3 << 20, () -> {
            for (int mode = 0; mode < 3; mode++) {
                try {
                    if (mode < 2) {
                        CsvTable.read(f, "label", mode == 1, null, null);
                    } else {
                        CsvTable.read(f, "label", false, List.of("0", "1", "a"), List.of("x", "y"));
                    }
                } catch (IOException e) {
                    FuzzSupport.expectDocumented(e, f, IOException.class);
                }
            }
        });
    }

    @FuzzTest
    void csvTable(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
