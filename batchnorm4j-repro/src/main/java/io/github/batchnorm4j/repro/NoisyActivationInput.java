package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * The "noisy BN" of E4b, in the spirit of Santurkar et al. (2018): after a BN layer of an MLP,
 * {@code z <- z * (1 + (nSigma - 1) * u1) + nMu * (2 * u2 - 1)} with {@code u1, u2 ~ U(0, 1)} drawn per unit,
 * fresh at every training step ({@link #nextStep}); within a step every sample sees the same noise, and a probe
 * pass reuses the current step's noise without drawing. Identity in eval mode.
 */
final class NoisyActivationInput extends Module {
    private final double nMu;
    private final double nSigma;
    private final SplittableRandom rng;
    private final float[] scale;
    private final float[] shift;
    private Tensor lastInput;

    NoisyActivationInput(int features, double nMu, double nSigma, SplittableRandom rng) {
        this.nMu = nMu;
        this.nSigma = nSigma;
        this.rng = rng;
        this.scale = new float[features];
        this.shift = new float[features];
        java.util.Arrays.fill(scale, 1f);
    }

    /** Draws this step's noise (called once per training step, before the forward). */
    void nextStep() {
        for (int j = 0; j < scale.length; j++) {
            scale[j] = (float) (1 + (nSigma - 1) * rng.nextDouble());
            shift[j] = (float) (nMu * (2 * rng.nextDouble() - 1));
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        lastInput = x;
        if (!isTraining()) {
            return x;
        }
        Tensor y = x.zerosLike();
        float[] in = x.data(), out = y.data();
        int f = scale.length;
        for (int i = 0; i < in.length; i++) {
            int j = i % f;
            out[i] = in[i] * scale[j] + shift[j];
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor g) {
        if (!isTraining()) {
            return g;
        }
        Tensor dx = g.zerosLike();
        float[] in = g.data(), out = dx.data();
        int f = scale.length;
        for (int i = 0; i < in.length; i++) {
            out[i] = in[i] * scale[i % f];
        }
        return dx;
    }
}
