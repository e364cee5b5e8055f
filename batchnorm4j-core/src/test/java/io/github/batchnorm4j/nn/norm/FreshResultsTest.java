package io.github.batchnorm4j.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.nn.AvgPool2d;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * By default a module's results belong to the caller: what {@code forward} and {@code backward} returned is
 * unchanged by later calls on other data, in training and eval mode. With {@code reuseBuffers(true)} the numbers
 * are the same bit for bit (the same module state after every step as well).
 */
class FreshResultsTest {
    static Stream<Arguments> modules() {
        Map<String, Supplier<Module>> m = new LinkedHashMap<>(NormLayerZoo.layers());
        int c = NormLayerZoo.CHANNELS;
        m.put("Conv2d", () -> new Conv2d(c, 4, 3, 1, 1, true, new SplittableRandom(1)));
        m.put("ReLU", ReLU::new);
        m.put("Sigmoid", Sigmoid::new);
        m.put("Tanh", Tanh::new);
        m.put("MaxPool2d", () -> new MaxPool2d(2));
        m.put("AvgPool2d", () -> new AvgPool2d(2, 1));
        m.put("GlobalAvgPool2d", GlobalAvgPool2d::new);
        m.put("Dropout", () -> new Dropout(0.3, new SplittableRandom(2)));
        m.put("Sequential", () -> new Sequential(new Conv2d(c, 4, 3, 1, 1, false, new SplittableRandom(3)),
                new BatchNorm(4), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(16, 3, true, new SplittableRandom(4))));
        m.put("BasicBlock", () -> new BasicBlock(c, c, 1, BatchNorm::new, new SplittableRandom(5)));
        m.put("BasicBlock downsampling", () -> new BasicBlock(c, 8, 2, BatchNorm::new, new SplittableRandom(6)));
        List<Arguments> out = new ArrayList<>();
        m.forEach((name, f) -> {
            out.add(Arguments.of(name, f, true));
            out.add(Arguments.of(name, f, false));
        });
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, training {2}")
    @MethodSource("modules")
    void resultsAreTheCallersAndReuseChangesNoNumber(String name, Supplier<Module> build, boolean training) {
        Module fresh = build.get().train(training);
        Module reused = build.get().train(training).reuseBuffers(true);
        assertFalse(fresh.reusesBuffers());
        List<Tensor> kept = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        for (int step = 0; step < 3; step++) {
            Tensor x = NormLayerZoo.input(30 + step, 1.0 + step, 4, MemoryFormat.CONTIGUOUS);
            Tensor y = fresh.forward(x);
            Tensor yr = reused.forward(x);
            assertArrayEquals(yr.copy().data(), y.copy().data(), name + " step " + step + ": output");
            Tensor dy = Tensor.zeros(y.shape());
            SplittableRandom r = new SplittableRandom(40 + step);
            for (int i = 0; i < dy.numel(); i++) {
                dy.data()[i] = (float) r.nextGaussian();
            }
            Tensor dx = null;
            Tensor dxr = null;
            if (training) {
                dx = fresh.backward(dy);
                dxr = reused.backward(dy);
                assertArrayEquals(dxr.copy().data(), dx.copy().data(), name + " step " + step + ": input gradient");
                fresh.namedParameters().forEach((k, p) -> assertArrayEquals(
                        reused.namedParameters().get(k).grad().copy().data(), p.grad().copy().data(), name + " " + k));
            }
            fresh.namedBuffers().forEach((k, t) -> assertArrayEquals(reused.namedBuffers().get(k).copy().data(),
                    t.copy().data(), name + " buffer " + k));
            for (Tensor t : training ? List.of(y, dx) : List.of(y)) {
                for (Tensor k : kept) {
                    assertNotSame(k, t, name + ": a result handed out twice");
                }
                kept.add(t);
                values.add(t.copy().data());
            }
        }
        // Every result is still what it was when returned, after the later calls on other data.
        for (int i = 0; i < kept.size(); i++) {
            assertArrayEquals(values.get(i), kept.get(i).copy().data(), name + ": result " + i + " was overwritten");
        }
        assertTrue(reused.reusesBuffers());
    }
}
