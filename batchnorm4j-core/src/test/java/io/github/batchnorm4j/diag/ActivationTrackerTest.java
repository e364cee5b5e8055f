package io.github.batchnorm4j.diag;

import static io.github.batchnorm4j.diag.TestModels.ramp;
import static io.github.batchnorm4j.diag.TestModels.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.diag.ActivationTracker.Point;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.diag.TestModels.Scale;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActivationTrackerTest {

    @Test
    void percentilesOfAUnitsInputFollowNumpyLinearInterpolation() {
        // numpy.percentile([10, 2, 8, 4, 6], [15, 50, 85]) == [3.2, 6.0, 8.8] (checked with NumPy).
        Sequential model = new Sequential(new Scale(2), new BatchNorm(2), new ReLU());
        ActivationTracker t = new ActivationTracker(List.of("1"), 1, 1);
        float[] unit1 = {5, 1, 4, 2, 3};
        Tensor x = Tensor.zeros(5, 2);
        for (int i = 0; i < 5; i++) {
            x.set(unit1[i], i, 1);
            x.set(-i, i, 0);
        }
        step(model, List.of(t), 0, x, ramp(5, 2));
        assertEquals(3.2, t.series("1", "input_p15").get(0).value(), 1e-12);
        assertEquals(6.0, t.series("1", "input_p50").get(0).value(), 1e-12);
        assertEquals(8.8, t.series("1", "input_p85").get(0).value(), 1e-12);
    }

    @Test
    void outputAndGradientMomentsAndSamplingSteps() {
        BatchNorm bn = new BatchNorm(3);
        Sequential model = new Sequential(new Scale(1), bn, new Scale(3));
        ActivationTracker t = new ActivationTracker(List.of("1", "2"), 0, 2);
        List<String> params = List.copyOf(model.namedParameters().keySet());
        for (long s = 0; s < 5; s++) {
            Tensor x = ramp(4, 3, 5).to(MemoryFormat.CONTIGUOUS);
            Tensor dy = ramp(4, 3, 5);
            Tensor y = step(model, List.of(t), s, x, dy);
            assertEquals(params, List.copyOf(model.namedParameters().keySet()), "probes removed after each step");
            if (s % 2 == 0) {
                // Layer 2 multiplies by 3: its output is y, the gradient reaching it is dy, its input y / 3.
                double[] ms = reference(y.data());
                assertEquals(ms[0], last(t.series("2", "output_mean")), 1e-9);
                assertEquals(ms[1], last(t.series("2", "output_std")), 1e-9);
                double[] g = reference(dy.data());
                assertEquals(g[0], last(t.series("2", "grad_mean")), 1e-9);
                assertEquals(g[1], last(t.series("2", "grad_std")), 1e-9);
                double[] g1 = reference(new Scale(3).forward(dy).data());
                assertEquals(g1[1], last(t.series("1", "grad_std")), 1e-9);
            }
        }
        assertEquals(List.of(0L, 2L, 4L), t.series("1", "output_std").stream().map(Point::step).toList());
        // BatchNorm output in training: mean beta = 0, std sqrt(var / (var + eps)) just below 1.
        double std = last(t.series("1", "output_std"));
        assertTrue(std > 0.999 && std < 1, "BN output std " + std);
        assertEquals(14, t.series().size(), "7 metrics for each of 2 layers");
        String csv = t.toCsv();
        assertTrue(csv.startsWith("step,layer,metric,value\n0,1,input_p15,"), csv);
        assertEquals(1 + 14 * 3, csv.split("\n").length);
    }

    @Test
    void rejectsUnknownLayersAndBadSettings() {
        Sequential model = new Sequential(new Scale(1), new BatchNorm(3));
        ActivationTracker t = new ActivationTracker(List.of("features.1"), 0, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.beforeTrainStep(model, 0, null));
        assertEquals("Expected a layer name of the model [0, 1], got 'features.1'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationTracker(List.of(), 0, 1));
        assertEquals("Expected at least one layer to track, got none", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ActivationTracker(List.of("1"), 0, 0));
        assertEquals("Expected every > 0, got every=0", e.getMessage());
    }

    private static double last(List<Point> s) {
        return s.get(s.size() - 1).value();
    }

    /** Mean and population std by a one-pass formula in double (independent of the tracker's two passes). */
    private static double[] reference(float[] v) {
        double s = 0, q = 0;
        for (float f : v) {
            s += f;
            q += (double) f * f;
        }
        double mean = s / v.length;
        return new double[] {mean, Math.sqrt(Math.max(0, q / v.length - mean * mean))};
    }
}
