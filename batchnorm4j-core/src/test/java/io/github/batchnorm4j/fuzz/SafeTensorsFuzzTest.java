package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link SafeTensors#read}: loads, or throws an {@link IOException} naming the file. Allocation bound: 165 bytes
 * per input byte plus 1 MiB: the header read as bytes and decoded into a String (4), its JSON parse (the
 * {@link JsonFuzzTest} bound), the tensor bytes and one converted copy of them (at most the file's size each).
 */
public class SafeTensorsFuzzTest {
    static final long PER_BYTE = 4 + JsonFuzzTest.PER_CHAR;
    static final long FIXED = 1 << 20;

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("x.safetensors", data);
        FuzzSupport.bounded("SafeTensors.read", data.length, PER_BYTE + 1, FIXED, () -> {
            try {
                SafeTensors.Contents c = SafeTensors.read(f);
                for (SafeTensors.Entry e : c.tensors().values()) {
                    if (e.dtype().equals("I64")) {
                        e.toLongs();
                    } else {
                        e.toFloats();
                    }
                }
            } catch (IOException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class);
            }
        }); // + 1: toFloats copies an F32 tensor and halves an F64 one, at most one more input's worth
    }

    @FuzzTest
    void safetensors(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
