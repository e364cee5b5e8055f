package io.github.batchnorm4j.repro;

import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.nn.norm.RenormSchedule;
import io.github.batchnorm4j.repro.RunSpec.Norm;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds the protocol's networks (docs/protocol.md, common setup). Init: weights ~ N(0, (c·s)²/fan_in) with s = 1 for
 * sigmoid nets and √2 for ReLU nets (the output layer at c = 1), biases 0; a layer followed by a normalization
 * has no bias; γ = 1, β = 0. GN on an MLP uses contiguous groups of 10 features; on a conv, 8 groups. LN on a conv
 * is GroupNorm with one group (statistics over all of a sample's features, per-channel γ/β).
 */
public final class NetFactory {
    /** Groups of GroupNorm on convolutions. */
    static final int CONV_GROUPS = 8;

    private NetFactory() {}

    /** A built network and the pieces the experiments look into. */
    public record Net(Sequential model, List<Module> norms, List<NoisyActivationInput> noise,
                      Linear firstHidden, Linear lastHidden, int probeIndex) {}

    public static Net build(RunSpec spec, SplittableRandom initRng, SplittableRandom noiseRng) {
        return spec.arch() == RunSpec.Arch.MLP ? mlp(spec, initRng, noiseRng) : cnn(spec, initRng);
    }

    private static Net mlp(RunSpec spec, SplittableRandom rng, SplittableRandom noiseRng) {
        double s = spec.activation() == RunSpec.Activation.RELU ? Math.sqrt(2) : 1;
        Sequential net = new Sequential();
        net.add(new Flatten());
        List<Module> norms = new ArrayList<>();
        List<NoisyActivationInput> noise = new ArrayList<>();
        int in = 28 * 28;
        Linear first = null, last = null;
        int probeIndex = -1;
        for (int h : spec.hidden()) {
            Linear lin = new Linear(in, h, spec.norm() == Norm.NONE, rng);
            gaussianInit(lin.weight().data(), in, spec.initScale() * s, rng);
            zero(lin.bias() == null ? null : lin.bias().data());
            net.add(lin);
            first = first == null ? lin : first;
            last = lin;
            Module norm = norm(spec, h, false);
            if (norm != null) {
                net.add(norm);
                norms.add(norm);
            }
            if (spec.norm() == Norm.NOISY_BN) {
                NoisyActivationInput n = new NoisyActivationInput(h, 1, 2, noiseRng);
                net.add(n);
                noise.add(n);
            }
            probeIndex = net.size(); // the activation's input is the output of the layer before it
            net.add(activation(spec));
            if (spec.dropout() > 0) {
                net.add(new Dropout(spec.dropout(), rng.split()));
            }
            in = h;
        }
        Linear out = new Linear(in, 10, true, rng);
        gaussianInit(out.weight().data(), in, s, rng);
        zero(out.bias().data());
        net.add(out);
        return new Net(net, norms, noise, first, last, probeIndex);
    }

    /**
     * E6b's CNN when the channel list has two entries (conv 16 → conv 32 → FC 128 → FC 10, max-pools after each
     * conv, a norm after every hidden layer), and E8's all-conv net when it has three (conv 16-32-64, pools after
     * the first two, global average pooling, FC 10).
     */
    private static Net cnn(RunSpec spec, SplittableRandom rng) {
        double s = Math.sqrt(2);
        Sequential net = new Sequential();
        List<Module> norms = new ArrayList<>();
        int[] ch = spec.hidden();
        int in = 1, hw = 28;
        for (int i = 0; i < ch.length; i++) {
            Conv2d conv = new Conv2d(in, ch[i], 3, 1, 1, spec.norm() == Norm.NONE, rng);
            gaussianInit(conv.weight().data(), in * 9, s, rng);
            zero(conv.bias() == null ? null : conv.bias().data());
            net.add(conv);
            Module norm = norm(spec, ch[i], true);
            if (norm != null) {
                net.add(norm);
                norms.add(norm);
            }
            net.add(new ReLU());
            if (i < 2) {
                net.add(new MaxPool2d(2, 2));
                hw /= 2;
            }
            in = ch[i];
        }
        int feat;
        if (ch.length == 2) {
            net.add(new Flatten());
            Linear fc = new Linear(in * hw * hw, 128, spec.norm() == Norm.NONE, rng);
            gaussianInit(fc.weight().data(), in * hw * hw, s, rng);
            zero(fc.bias() == null ? null : fc.bias().data());
            net.add(fc);
            Module norm = norm(spec, 128, false);
            if (norm != null) {
                net.add(norm);
                norms.add(norm);
            }
            net.add(new ReLU());
            feat = 128;
        } else {
            net.add(new GlobalAvgPool2d());
            feat = in;
        }
        Linear out = new Linear(feat, 10, true, rng);
        gaussianInit(out.weight().data(), feat, s, rng);
        zero(out.bias().data());
        net.add(out);
        return new Net(net, norms, List.of(), null, null, -1);
    }

    private static Module norm(RunSpec spec, int features, boolean conv) {
        return switch (spec.norm()) {
            case NONE -> null;
            case BN, NOISY_BN -> new BatchNorm(features, NormOptions.BATCH_NORM);
            case BRN -> {
                // The rmax/dmax schedule scaled to the run length T: 1/0 until T·5/160, then linear to the limits
                // at T·40/160 (rmax) and T·25/160 (dmax); running mean and running sigma (the paper's average of
                // sigma_B, as the protocol requires) with α = 0.01.
                long t = spec.steps();
                yield new BatchRenorm(features, NormOptions.BATCH_NORM.withMomentum(0.01),
                        new RenormSchedule(1, spec.rmaxLimit(), t * 5 / 160, t * 40 / 160),
                        new RenormSchedule(0, spec.dmaxLimit(), t * 5 / 160, t * 25 / 160),
                        BatchRenorm.RunningSigma.SIGMA);
            }
            case GN -> new GroupNorm(conv ? CONV_GROUPS : Math.max(1, features / 10) == 0 ? 1 : groupsFor(features),
                    features);
            case LN -> conv ? new GroupNorm(1, features) : new LayerNorm(features);
        };
    }

    /** Contiguous groups of 10 features when the width allows it (width 100: 10 groups), else 8 groups. */
    private static int groupsFor(int features) {
        return features % 10 == 0 ? features / 10 : (features % 8 == 0 ? 8 : 1);
    }

    private static Module activation(RunSpec spec) {
        return spec.activation() == RunSpec.Activation.RELU ? new ReLU() : new Sigmoid();
    }

    static void gaussianInit(float[] w, int fanIn, double gain, SplittableRandom rng) {
        double std = gain / Math.sqrt(fanIn);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (std * gaussian(rng));
        }
    }

    /** A standard normal by Box–Muller (SplittableRandom has no nextGaussian with a fixed algorithm across JDKs). */
    static double gaussian(SplittableRandom rng) {
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static void zero(float[] b) {
        if (b != null) {
            java.util.Arrays.fill(b, 0f);
        }
    }
}
