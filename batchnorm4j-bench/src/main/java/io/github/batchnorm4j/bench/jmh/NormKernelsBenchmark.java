package io.github.batchnorm4j.bench.jmh;

import io.github.batchnorm4j.functional.NormCore;
import io.github.batchnorm4j.functional.NormSaved;
import io.github.batchnorm4j.functional.NormWorkspace;
import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.kernel.NormGeometry;
import io.github.batchnorm4j.kernel.ScalarNormKernels;
import io.github.batchnorm4j.kernel.VectorNormKernels;
import io.github.batchnorm4j.kernel.WorkerPool;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of the BatchNorm kernels through {@link NormCore} with a reused workspace, on the shapes of
 * {@code bn4j bench kernels}; {@code kernels=scalar} times the float64 reference for comparison. Run e.g.
 * {@code java -jar batchnorm4j-bench/target/benchmarks.jar -p shape=32x256x14x14/NCHW -p threads=2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class NormKernelsBenchmark {
    @Param({"64x64x56x56/NCHW", "64x64x56x56/NHWC", "128x64x28x28/NCHW", "32x256x14x14/NCHW", "4096x1024/NC",
            "60x100/NC"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"vector"})
    public String kernels;

    private NormGeometry g;
    private float[] x, y, dy, dx, gamma, beta, rm, rv, dGamma, dBeta;
    private final NormWorkspace trainWs = new NormWorkspace(), evalWs = new NormWorkspace();
    private final NormWorkspace bwdWs = new NormWorkspace();
    private NormSaved saved;

    @Setup
    public void setup() {
        Kernels.setNorm(kernels.equals("scalar") ? ScalarNormKernels.INSTANCE : VectorNormKernels.INSTANCE);
        WorkerPool.setThreads(threads);
        String[] parts = shape.split("/");
        String[] dims = parts[0].split("x");
        int n = Integer.parseInt(dims[0]), c = Integer.parseInt(dims[1]);
        int s = dims.length == 4 ? Integer.parseInt(dims[2]) * Integer.parseInt(dims[3]) : 1;
        g = parts[1].equals("NCHW") ? NormGeometry.perChannel(n, c, s) : NormGeometry.perChannel(n * s, c, 1);
        int numel = (int) g.numel();
        SplittableRandom r = new SplittableRandom(1);
        x = new float[numel];
        dy = new float[numel];
        y = new float[numel];
        dx = new float[numel];
        for (int i = 0; i < numel; i++) {
            x[i] = (float) (0.5 + 2 * r.nextGaussian());
            dy[i] = (float) r.nextGaussian();
        }
        gamma = new float[c];
        beta = new float[c];
        rm = new float[c];
        rv = new float[c];
        dGamma = new float[c];
        dBeta = new float[c];
        java.util.Arrays.fill(gamma, 1.1f);
        java.util.Arrays.fill(rv, 1f);
        saved = NormCore.forward(x, y, g, true, null, null, 0.1, 1e-5, gamma, beta, null, false, bwdWs);
    }

    @Benchmark
    public float[] trainForward() {
        NormCore.forward(x, y, g, true, rm, rv, 0.1, 1e-5, gamma, beta, null, false, trainWs);
        return y;
    }

    @Benchmark
    public float[] evalForward() {
        NormCore.forward(x, y, g, false, rm, rv, 0.1, 1e-5, gamma, beta, null, false, evalWs);
        return y;
    }

    @Benchmark
    public float[] backward() {
        NormCore.backward(saved, x, dy, gamma, null, dx, null, dGamma, dBeta, bwdWs);
        return dx;
    }

    @Benchmark
    public float[] trainForwardRelu() {
        NormCore.forward(x, y, g, true, rm, rv, 0.1, 1e-5, gamma, beta, null, true, trainWs);
        return y;
    }
}
