package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.tensor.Tensor;

/** Gradients of a normalization: input, and gamma/beta (null when the layer has no affine parameters). */
public record NormGradients(Tensor input, Tensor weight, Tensor bias) {}
