package io.github.batchnorm4j.nn.norm;

import io.github.batchnorm4j.functional.Functional;
import io.github.batchnorm4j.tensor.Shapes;
import io.github.batchnorm4j.tensor.Tensor;

/**
 * Layer Normalization (Ba et al., 2016): for input {@code [*, normalizedShape]}, each sample is normalised over
 * its trailing {@code normalizedShape} values, {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}, with
 * elementwise gamma/beta of shape {@code normalizedShape}. No running statistics; training and eval agree.
 */
public class LayerNorm extends NormLayer {
    private final int[] normalizedShape;
    private final double eps;

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        super(checkShape(normalizedShape), elementwiseAffine);
        Functional.checkEps(eps);
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
    }

    private static int[] checkShape(int[] shape) {
        if (shape.length == 0 || Shapes.numel(shape) == 0) {
            throw new IllegalArgumentException("Expected a non-empty normalized_shape, got " + Shapes.str(shape));
        }
        return shape.clone();
    }

    @Override
    public Tensor forward(Tensor x) {
        return remember(x, Functional.layerNorm(x, normalizedShape, weightValue(), biasValue(), eps,
                workspace()));
    }

    @Override
    Tensor forwardMasked(Tensor x, Tensor mask) {
        return remember(x, Functional.layerNorm(x, mask, normalizedShape, weightValue(), biasValue(), eps,
                workspace()));
    }

    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    public double eps() {
        return eps;
    }
}
