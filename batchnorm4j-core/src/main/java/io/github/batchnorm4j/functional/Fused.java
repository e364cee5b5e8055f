package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.tensor.Tensor;

/**
 * Fused BatchNorm epilogues for the training stack: {@code relu(bn(x))} and the residual block's
 * {@code relu(bn(x) + residual)}, each one pass over memory after the statistics, and their backwards, which gate
 * the gradient by the saved output ({@code output > 0}) inside the BatchNorm backward instead of materialising the
 * ReLU gradient. Arguments and validation are those of {@link Functional#batchNorm}; the result equals composing
 * BatchNorm, the add (in float) and ReLU, up to the rounding of the fused multiply-add.
 */
public final class Fused {
    private Fused() {}

    /** Gradients of BN+add+ReLU: input, residual, and gamma/beta (null without affine gradients). */
    public record AddGradients(Tensor input, Tensor residual, Tensor weight, Tensor bias) {}

    /** {@code relu(batchNorm(x))}; see {@link Functional#batchNorm} for the arguments. */
    public static NormResult batchNormRelu(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight,
                                           Tensor bias, boolean training, double momentum, double eps,
                                           NormWorkspace ws) {
        return Functional.batchNormFused(x, null, true, runningMean, runningVar, weight, bias, training, momentum,
                eps, ws);
    }

    /** {@code relu(batchNorm(x) + residual)}; {@code residual} has the shape of {@code x} (either format). */
    public static NormResult batchNormAddRelu(Tensor x, Tensor residual, Tensor runningMean, Tensor runningVar,
                                              Tensor weight, Tensor bias, boolean training, double momentum,
                                              double eps, NormWorkspace ws) {
        if (residual == null) {
            throw new IllegalArgumentException("Expected a residual tensor of shape " + x.shapeString() + ", got null");
        }
        return Functional.batchNormFused(x, residual, true, runningMean, runningVar, weight, bias, training, momentum,
                eps, ws);
    }

    /**
     * Backward of {@link #batchNormRelu}: {@code output} is that forward's output, {@code gradOutput} the gradient
     * of it; returns dx (in the format of {@code x}) and dweight/dbias when {@code affineGrads}.
     */
    public static NormGradients batchNormReluBackward(NormSaved saved, Tensor x, Tensor output, Tensor gradOutput,
                                                      Tensor weight, boolean affineGrads, NormWorkspace ws) {
        AddGradients g = backward(saved, x, output, gradOutput, weight, affineGrads, false, ws);
        return new NormGradients(g.input(), g.weight(), g.bias());
    }

    /** Backward of {@link #batchNormAddRelu}: also returns the gradient of the residual (format of {@code x}). */
    public static AddGradients batchNormAddReluBackward(NormSaved saved, Tensor x, Tensor output,
                                                        Tensor gradOutput, Tensor weight, boolean affineGrads,
                                                        NormWorkspace ws) {
        return backward(saved, x, output, gradOutput, weight, affineGrads, true, ws);
    }

    private static AddGradients backward(NormSaved saved, Tensor x, Tensor output, Tensor gradOutput, Tensor weight,
                                         boolean affineGrads, boolean residual, NormWorkspace ws) {
        Tensor dr = residual ? x.zerosLike() : null;
        NormGradients g = Functional.normBackward(saved, x, output, gradOutput, weight, affineGrads, dr, ws);
        return new AddGradients(g.input(), dr, g.weight(), g.bias());
    }
}
