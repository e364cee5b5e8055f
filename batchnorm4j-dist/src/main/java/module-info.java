/** Data-parallel training across processes: Open MPI called through the JDK's foreign-function API. */
module io.github.batchnorm4j.dist {
    requires transitive io.github.batchnorm4j.core;

    exports io.github.batchnorm4j.dist.mpi;
}
