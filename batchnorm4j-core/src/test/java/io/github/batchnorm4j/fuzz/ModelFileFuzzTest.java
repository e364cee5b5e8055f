package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.models.ModelBuilder;
import io.github.batchnorm4j.models.ModelFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model file as {@code bn4j train --model FILE} takes it: {@link ModelFile#read}, the variables of the built-in
 * models set ({@code classes}, {@code width}, {@code norm}, {@code activation}), then {@link ModelFile#build} for
 * 1x28x28 data of 10 classes. Loads, or throws an {@link IOException} (read) or {@link IllegalArgumentException}
 * (parse, variables, build) whose message names the file. Allocation bound: {@value #PER_BYTE} bytes per input byte
 * plus 8 bytes per value of the model's parameter cap ({@value #MAX_VALUES}, which the build checks before it
 * allocates a layer) plus 4 MiB; without the cap a 60-byte file could ask for gigabytes.
 */
public class ModelFileFuzzTest {
    static final long PER_BYTE = 2048;
    static final long MAX_VALUES = 1 << 20;
    static final Map<String, Object> VARIABLES = Map.of("classes", 10L, "width", 8L, "norm", "bn",
            "activation", "relu");

    public static void fuzzerTestOneInput(byte[] data) {
        Path f = FuzzSupport.file("model.json", data);
        FuzzSupport.bounded("ModelFile.read + build", data.length, PER_BYTE, 8 * MAX_VALUES + (4 << 20), () -> {
            try {
                ModelFile mf = ModelFile.read(f).withVariables(VARIABLES);
                mf.build(new ModelBuilder.Options(new int[] {1, 28, 28}, 10, new SplittableRandom(1), null, null,
                        MAX_VALUES));
            } catch (IOException | IllegalArgumentException e) {
                FuzzSupport.expectDocumented(e, f, IOException.class, IllegalArgumentException.class);
            }
        });
    }

    @FuzzTest
    void modelFile(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
