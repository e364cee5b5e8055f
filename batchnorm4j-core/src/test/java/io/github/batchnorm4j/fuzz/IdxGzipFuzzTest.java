package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.data.Idx;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link Idx#read} of a {@code .gz} file: loads, or throws an {@link IOException} naming the file. Allocation bound:
 * {@value #PER_BYTE} bytes per input byte plus 4 MiB. Deflate expands at most about 1032:1, the data buffer starts
 * at up to 1 MiB and doubles as bytes arrive (so at most twice the decoded size, plus the final trim), whatever the
 * header claims.
 */
public class IdxGzipFuzzTest {
    static final long PER_BYTE = 4 * 1032;

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("x-idx3-ubyte.gz", data);
        FuzzSupport.bounded("Idx.read (gzip)", data.length, PER_BYTE, 4 << 20, () -> {
            try {
                Idx.read(f);
            } catch (IOException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class);
            }
        });
    }

    @FuzzTest
    void idxGzip(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
