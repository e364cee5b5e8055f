package io.github.batchnorm4j.repro.report;

import java.util.List;
import java.util.Map;

/**
 * What the primary sources report for each claim, shown beside our measurements: the paper, its setting and its
 * figure. The settings differ from ours (ImageNet, Inception, ResNet-50; we train small nets on Fashion-MNIST), so
 * these are the effects to look for, not numbers to match. Sources and details: docs/protocol.md, "The sources".
 */
final class PaperFigures {
    /** One reported figure: who, in what setting, what. */
    record Figure(String source, String setting, String figure) {}

    private static final String BN = "Ioffe & Szegedy 2015";
    private static final String GN = "Wu & He 2018";
    private static final String BRN = "Ioffe 2017";
    private static final String SANTURKAR = "Santurkar et al. 2018";
    private static final String WJ = "Wu & Johnson 2021";

    static final Map<Integer, List<Figure>> BY_CLAIM = Map.of(
            1, List.of(
                    new Figure(BN, "MNIST, 3x100 sigmoid MLP, batch 60, 50k steps (Fig. 1a)",
                            "with BN the test accuracy rises faster and ends higher"),
                    new Figure("independent MNIST rerun of Fig. 1a", "same net, gradient descent lr 0.5, 50k steps",
                            "final test accuracy 0.980 with BN vs 0.977 without (and 0.9776 vs 0.975): the gain is early")),
            2, List.of(
                    new Figure(BN, "Inception on ImageNet, steps to 72.2 % (Fig. 3)",
                            "Inception 31.0M; BN-Baseline 13.3M; BN-x5 (lr x5) 2.1M; BN-x30 (lr x30) 2.7M, max 74.8 %"),
                    new Figure(BN, "the original Inception at lr x5",
                            "the parameters reach machine infinity (diverges)")),
            3, List.of(new Figure(BN, "Inception with sigmoid instead of ReLU (Fig. 3)",
                    "without BN stays at chance (at most 1/1000); BN-x5-Sigmoid reaches 69.8 %")),
            4, List.of(
                    new Figure(BN, "MNIST, one sigmoid input of the last hidden layer, p15/p50/p85 (Fig. 1b,c)",
                            "without BN the distribution drifts in mean and spread; with BN it is much more stable"),
                    new Figure(SANTURKAR, "VGG on CIFAR-10 with noise injected after every BN layer",
                            "unstable distributions, yet it trains about as well as plain BN and far better than none")),
            5, List.of(new Figure(BN, "scale invariance (Sec. 3.3)",
                    "BN(aWu) = BN(Wu): the layer Jacobian does not depend on the weight scale; larger weights get "
                            + "proportionally smaller gradients")),
            6, List.of(
                    new Figure(GN, "ResNet-50 on ImageNet, val. error % at 32/16/8/4/2 images per GPU (Table 2)",
                            "BN 23.6/23.7/24.8/27.3/34.7; GN 24.1/24.2/24.0/24.2/24.1"),
                    new Figure(GN, "Batch Renorm at 4 images per GPU", "26.3 % error (BN 27.3, GN 24.2)"),
                    new Figure(BRN, "Inception-v3, batches of 4 (secondary summary)", "BN 74.2 %, BRN 76.5 % top-1"),
                    new Figure(WJ, "EMA vs PreciseBN population statistics",
                            "with small normalization batches the gap is train-test inconsistency, which PreciseBN "
                                    + "does not remove")),
            7, List.of(new Figure(BN, "Inception, Sec. 3.4 and 4.2.1",
                    "BN acts as a regularizer; Dropout can be removed or reduced in a BN network")),
            8, List.of(new Figure(BN, "inference (Alg. 2)",
                    "in eval mode BN is one affine map per unit, which can be merged into the preceding layer")));

    private PaperFigures() {}
}
