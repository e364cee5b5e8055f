/** The {@code bn4j} command-line tool; picocli reads its commands' annotated fields by reflection. */
module io.github.batchnorm4j.cli {
    requires io.github.batchnorm4j.core;
    requires io.github.batchnorm4j.dist;
    requires io.github.batchnorm4j.onnx;
    requires io.github.batchnorm4j.repro;
    requires io.github.batchnorm4j.bench;
    requires info.picocli;

    opens io.github.batchnorm4j.cli to info.picocli;
}
