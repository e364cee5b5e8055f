package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.golden.GoldenCase;
import io.github.batchnorm4j.golden.GoldenRunner;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A golden case as {@code verify-golden} handles it: {@link GoldenCase#read} (the safetensors container plus the
 * case metadata and tensor checks) throws an {@link IOException} naming the file, or the case it returns runs
 * through {@link GoldenRunner#run} to a pass/fail result without an exception. Allocation bound: the safetensors
 * bound plus 64 bytes per input byte (the layer's outputs, gradients and float64 references, a few copies of the
 * tensors in the file), plus 1 MiB.
 */
public class GoldenCaseFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("bn_fuzz_train.safetensors", data);
        FuzzSupport.bounded("GoldenCase.read + run", data.length, SafeTensorsFuzzTest.PER_BYTE + 64, 1 << 20, () -> {
            GoldenCase c = null;
            try {
                c = GoldenCase.read(f);
            } catch (IOException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class);
            }
            if (c != null) {
                GoldenRunner.run(c);
            }
        });
    }

    @FuzzTest
    void goldenCase(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
