package io.github.batchnorm4j.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.batchnorm4j.io.Json;
import java.nio.charset.StandardCharsets;

/**
 * {@link Json#parse}: returns a value or throws an {@link IllegalArgumentException} with a message (a position).
 * Allocation bound: {@value #PER_CHAR} bytes per input byte plus 64 KiB (an empty array or object per character is
 * the worst case: each is a small collection of about 100 bytes).
 */
public class JsonFuzzTest {
    static final long PER_CHAR = 160;
    static final long FIXED = 1 << 16;

    public static void fuzzerTestOneInput(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        FuzzSupport.bounded("Json.parse", data.length, PER_CHAR, FIXED, () -> {
            try {
                Json.parse(text);
            } catch (IllegalArgumentException e) {
                FuzzSupport.expectDocumented(e, null, IllegalArgumentException.class);
            }
        });
    }

    @FuzzTest
    void json(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
