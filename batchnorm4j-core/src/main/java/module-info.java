/**
 * batchnorm4j's core: tensors, layers (Batch Normalization and its family among them), losses, optimizers,
 * training, inference and file formats.
 *
 * <p>The Vector API ({@code jdk.incubator.vector}) is optional: with {@code --add-modules jdk.incubator.vector}
 * the kernels use it, without it they fall back to scalar code (one notice on stderr). The kernel and golden-file
 * packages are internals, exported only to the project's own modules.
 */
@SuppressWarnings("module") // the qualified exports name modules built after this one
module io.github.batchnorm4j.core {
    requires static jdk.incubator.vector;
    requires java.desktop; // javax.imageio reads the image-folder data sets

    exports io.github.batchnorm4j.tensor;
    exports io.github.batchnorm4j.nn;
    exports io.github.batchnorm4j.nn.norm;
    exports io.github.batchnorm4j.functional;
    exports io.github.batchnorm4j.optim;
    exports io.github.batchnorm4j.loss;
    exports io.github.batchnorm4j.data;
    exports io.github.batchnorm4j.io;
    exports io.github.batchnorm4j.infer;
    exports io.github.batchnorm4j.train;
    exports io.github.batchnorm4j.models;
    exports io.github.batchnorm4j.diag;
    exports io.github.batchnorm4j.dist;
    exports io.github.batchnorm4j.report;

    exports io.github.batchnorm4j.kernel to io.github.batchnorm4j.repro, io.github.batchnorm4j.bench,
            io.github.batchnorm4j.cli;
    exports io.github.batchnorm4j.golden to io.github.batchnorm4j.cli;
}
