package io.github.batchnorm4j.nn.norm;

import static io.github.batchnorm4j.reference.TestArrays.GRAD_TOL;
import static io.github.batchnorm4j.reference.TestArrays.OUTPUT_TOL;
import static io.github.batchnorm4j.reference.TestArrays.assertClose;
import static io.github.batchnorm4j.reference.TestArrays.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.batchnorm4j.nn.LongState;
import io.github.batchnorm4j.nn.norm.NormLayerCases.Family;
import io.github.batchnorm4j.nn.norm.NormLayerCases.Run;
import io.github.batchnorm4j.reference.Float64Reference;
import io.github.batchnorm4j.reference.Float64Reference.Backward;
import io.github.batchnorm4j.reference.Float64Reference.Forward;
import io.github.batchnorm4j.reference.Float64Reference.Grouping;
import io.github.batchnorm4j.reference.TestArrays;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer case of {@link NormLayerCases} against the float64 reference: two training steps then one eval
 * step, each with forward and backward, comparing the output, dx, dgamma, dbeta, the running mean/variance and
 * num_batches_tracked. Outputs and statistics within {@code 1e-5 * max(1, max|E|)}, gradients within
 * {@code 1e-4 * max(1, max|E|)}, including inputs offset by 1e4 and 1e6.
 */
class NormLayerParityTest {

    static List<Run> batchNorm() {
        return NormLayerCases.runs(NormLayerCases.batchNormCases());
    }

    static List<Run> instanceNorm() {
        return NormLayerCases.runs(NormLayerCases.instanceNormCases());
    }

    static List<Run> groupNorm() {
        return NormLayerCases.runs(NormLayerCases.groupNormCases());
    }

    static List<Run> layerNorm() {
        return NormLayerCases.runs(NormLayerCases.layerNormCases());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchNorm")
    void batchNormMatchesReference(Run run) {
        check(run);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("instanceNorm")
    void instanceNormMatchesReference(Run run) {
        check(run);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("groupNorm")
    void groupNormMatchesReference(Run run) {
        check(run);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layerNorm")
    void layerNormMatchesReference(Run run) {
        check(run);
    }

    private static void check(Run run) {
        NormLayer layer = run.build();
        SplittableRandom rnd = new SplittableRandom(run.toString().hashCode());
        NormOptions o = run.layerCase().options();
        MemoryFormat layout = run.layerCase().layout();
        if (layer.weight() != null) {
            float[] w = TestArrays.uniform(rnd, layer.weight().data().length, 0.5, 1.5);
            float[] b = TestArrays.gaussian(rnd, w.length, 0, 1);
            System.arraycopy(w, 0, layer.weight().data(), 0, w.length);
            System.arraycopy(b, 0, layer.bias().data(), 0, b.length);
        }
        Grouping g = run.grouping();
        int[] shape = run.shape();
        int numel = Float64Reference.numel(shape);
        boolean[] modes = {true, true, false};
        for (int step = 0; step < modes.length; step++) {
            boolean training = modes[step];
            String at = run + " step " + step + (training ? " (train)" : " (eval)") + ": ";
            layer.train(training);
            float[] x = TestArrays.gaussian(rnd, numel, run.offset(), 0.5 + rnd.nextDouble());
            Tensor rm = layer.namedBuffers().get("running_mean");
            Tensor rv = layer.namedBuffers().get("running_var");
            LongState nbt = layer.namedLongBuffers().get("num_batches_tracked");
            float[] rm0 = rm == null ? null : rm.data().clone();
            float[] rv0 = rv == null ? null : rv.data().clone();
            long nbt0 = nbt == null ? -1 : nbt.get();

            Tensor y = layer.forward(Tensor.of(x.clone(), shape).to(layout));

            boolean batchStats = run.layerCase().family() == Family.GROUP || run.layerCase().family() == Family.LAYER
                    || training || !o.trackRunningStats();
            double[] xd = toDouble(x);
            double[] gamma = layer.weight() == null ? null : toDouble(layer.weight().data());
            double[] beta = layer.bias() == null ? null : toDouble(layer.bias().data());
            Forward f = batchStats ? Float64Reference.forwardBatch(g, xd, gamma, beta, o.eps())
                    : Float64Reference.forwardFixed(g, xd, toDouble(rm0), toDouble(rv0), gamma, beta, o.eps());
            assertEquals(layout, y.format(), at + "output layout");
            assertArrayEquals(shape, y.shape(), at + "output shape");
            assertClose(at + "y", f.y(), y.toContiguousArray(), OUTPUT_TOL);

            if (run.tracks()) {
                if (training) {
                    double factor = o.momentum() == null ? 1.0 / (nbt0 + 1) : o.momentum();
                    double[] em = toDouble(rm0), ev = toDouble(rv0);
                    Float64Reference.updateRunning(g, f.mean(), f.var(), em, ev, factor);
                    assertClose(at + "running_mean", em, rm.data(), OUTPUT_TOL);
                    assertClose(at + "running_var", ev, rv.data(), OUTPUT_TOL);
                    assertEquals(nbt0 + 1, nbt.get(), at + "num_batches_tracked");
                } else {
                    assertArrayEquals(rm0, rm.data(), at + "running_mean changed in eval");
                    assertArrayEquals(rv0, rv.data(), at + "running_var changed in eval");
                    assertEquals(nbt0, nbt.get(), at + "num_batches_tracked changed in eval");
                }
            } else {
                assertEquals(null, rm, at + "no running_mean buffer without tracking");
                assertEquals(null, nbt, at + "no num_batches_tracked without tracking");
            }

            float[] dy = TestArrays.gaussian(rnd, numel, 0, 1);
            layer.zeroGrad();
            Tensor dx = layer.backward(Tensor.of(dy.clone(), shape).to(layout));
            Backward b = Float64Reference.backward(g, xd, toDouble(dy), f.mean(), f.var(), gamma, o.eps(),
                    batchStats, gamma != null);
            assertEquals(layout, dx.format(), at + "dx layout");
            assertClose(at + "dx", b.dx(), dx.toContiguousArray(), GRAD_TOL);
            if (gamma != null) {
                assertClose(at + "dgamma", b.dGamma(), layer.weight().grad().data(), GRAD_TOL);
                assertClose(at + "dbeta", b.dBeta(), layer.bias().grad().data(), GRAD_TOL);
            }
        }
    }
}
