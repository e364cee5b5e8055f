package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.kernel.Kernels;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One training step's numbers of a small convolutional network with BatchNorm, printed as the raw bits of every
 * float, so that {@link NoVectorModuleTest} can compare JVMs started with and without the Vector API. The
 * network touches every kernel family: a convolution whose weight gradient uses RowDots ({@code 3*3*3 < 32}),
 * one that uses GEMM ({@code 8*3*3}), BatchNorm's statistics, ReLU and a Linear layer.
 */
public final class NoVectorModuleProbe {
    private NoVectorModuleProbe() {}

    /** Prints {@code kernels=<implementation>} and one {@code name hex hex ...} line per result tensor. */
    public static void main(String[] args) {
        System.out.println("kernels=" + Kernels.dense());
        for (Map.Entry<String, float[]> e : run().entrySet()) {
            StringBuilder line = new StringBuilder(e.getKey());
            for (float v : e.getValue()) {
                line.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
            }
            System.out.println(line);
        }
    }

    /** Forward, backward with a random {@code dy}, and the results by name (outputs, gradients, statistics). */
    static Map<String, float[]> run() {
        SplittableRandom rng = new SplittableRandom(2024);
        Conv2d conv1 = new Conv2d(3, 8, 3, 1, 1, true, rng);
        BatchNorm bn = new BatchNorm(8);
        Conv2d conv2 = new Conv2d(8, 6, 3, 2, 1, false, rng);
        Linear fc = new Linear(6 * 5 * 5, 5, true, rng);
        Sequential net = new Sequential(conv1, bn, new ReLU(), conv2, new Flatten(), fc);
        float[] x = new float[7 * 3 * 9 * 9];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble(-2, 2);
        }
        Tensor y = net.forward(Tensor.of(x, 7, 3, 9, 9));
        float[] dy = new float[y.numel()];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) rng.nextDouble(-1, 1);
        }
        Tensor dx = net.backward(Tensor.of(dy, y.shape()));
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        out.put("y", y.toContiguousArray());
        out.put("dx", dx.toContiguousArray());
        List<String> names = new ArrayList<>(net.namedParameters().keySet());
        for (String name : names) {
            out.put("grad." + name, net.namedParameters().get(name).grad().toContiguousArray());
        }
        for (Map.Entry<String, Tensor> b : net.namedBuffers().entrySet()) {
            out.put("buffer." + b.getKey(), b.getValue().toContiguousArray());
        }
        return out;
    }
}
