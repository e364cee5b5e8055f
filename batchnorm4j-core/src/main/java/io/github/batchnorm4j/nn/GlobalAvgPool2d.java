package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Global average pooling {@code (N, C, H, W) -> (N, C)}: {@code y[n][c] = mean_{h,w} x[n][c][h][w]} (sum in
 * double), i.e. {@code AdaptiveAvgPool2d(1)} followed by flatten. Backward spreads {@code dy / (H*W)}.
 */
public final class GlobalAvgPool2d extends Module {
    private int[] inputShape;
    private Tensor output;
    private Tensor gradInput;

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(2) * x.dim(3) == 0) {
            throw Buffers.badInput(this, "[N, C, H, W] with H, W > 0", x);
        }
        Tensor xc = x.to(MemoryFormat.CONTIGUOUS);
        inputShape = xc.shape();
        int planes = xc.dim(0) * xc.dim(1);
        int s = xc.dim(2) * xc.dim(3);
        output = Buffers.result(this, output, xc.dim(0), xc.dim(1));
        float[] xs = xc.data();
        float[] y = output.data();
        for (int p = 0; p < planes; p++) {
            double acc = 0;
            for (int j = 0, o = p * s; j < s; j++) {
                acc += xs[o + j];
            }
            y[p] = (float) (acc / s);
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Buffers.checkGrad(this, output, gradOutput);
        gradInput = Buffers.result(this, gradInput, inputShape);
        int s = inputShape[2] * inputShape[3];
        float[] dy = gradOutput.data();
        float[] dx = gradInput.data();
        for (int p = 0; p < dy.length; p++) {
            java.util.Arrays.fill(dx, p * s, (p + 1) * s, dy[p] / s);
        }
        return gradInput;
    }

    @Override
    public String toString() {
        return "GlobalAvgPool2d()";
    }
}
