package io.github.batchnorm4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.io.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The comparison runs both sides on the same folded model and input: their outputs agree, both times are
 * measured, and the JSON has the agreed fields. (The times themselves are measurements, not tests.)
 */
class OnnxRuntimeComparisonTest {
    @Test
    void bothSidesAgreeOnTheBuiltInModels() {
        assertTrue(OnnxRuntimeComparison.available(), "ONNX Runtime is a test dependency of this module");
        for (String model : new String[] {"mlp", "cnn", "resnet"}) {
            for (int batch : new int[] {1, 3}) {
                OnnxRuntimeComparison.Result r = OnnxRuntimeComparison.run(model, InferBench.builtIn(model),
                        InferBench.builtInInput(model), batch, 1, 1, 5);
                assertTrue(r.agreement() <= 1e-5, model + " batch " + batch + ": " + r.agreement());
                assertTrue(r.oursMedianMs() > 0 && r.ortMedianMs() > 0, r.toString());
                @SuppressWarnings("unchecked")
                Map<String, Object> json = (Map<String, Object>) Json.parse(r.json());
                assertEquals(model, json.get("model"));
                assertEquals(batch, ((Number) json.get("batch_size")).intValue());
                for (String key : new String[] {"median_ms", "onnxruntime_median_ms", "throughput_ratio"}) {
                    assertTrue(((Number) json.get(key)).doubleValue() > 0, key + " in " + r.json());
                }
            }
        }
    }
}
