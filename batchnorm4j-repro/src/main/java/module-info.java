/** The reproduction protocol of the claims about Batch Normalization: experiments, gates and the HTML report. */
module io.github.batchnorm4j.repro {
    requires transitive io.github.batchnorm4j.core;

    exports io.github.batchnorm4j.repro;
    exports io.github.batchnorm4j.repro.report;
}
