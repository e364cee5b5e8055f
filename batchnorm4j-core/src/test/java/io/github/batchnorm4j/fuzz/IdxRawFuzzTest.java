package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.data.Idx;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link Idx#read} of a raw file: loads, or throws an {@link IOException} naming the file. Allocation bound: 2 bytes
 * per input byte plus 256 KiB (the data array is allocated only once the file size matches the header, plus the
 * read buffers).
 */
public class IdxRawFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("x-idx3-ubyte", data);
        FuzzSupport.bounded("Idx.read (raw)", data.length, 2, 256 << 10, () -> {
            try {
                Idx.read(f);
            } catch (IOException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class);
            }
        });
    }

    @FuzzTest
    void idxRaw(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
