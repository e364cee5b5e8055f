package io.github.batchnorm4j.functional;

import io.github.batchnorm4j.tensor.Tensor;

/** Output of a normalization forward and the state its backward needs. */
public record NormResult(Tensor output, NormSaved saved) {}
