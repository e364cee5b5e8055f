package io.github.batchnorm4j.functional;

/**
 * The <em>transform</em> phase of the statistics pipeline: from the (combined) batch statistics and the running
 * statistics before this step's update, the statistics the batch is normalised with. Null is the identity
 * (normalise with the batch statistics). Batch Renormalization's r/d correction is one
 * ({@code nn.norm.BatchRenorm}).
 */
public interface StatsTransform {

    /**
     * Writes, for {@code c < channels}, the mean and inverse standard deviation to normalise with into
     * {@code normMean} and {@code normInvStd}, given the batch's {@code mean} and
     * {@code invStd = 1/sqrt(var_B + eps)} and the running statistics {@code before} (not yet updated).
     */
    void apply(double[] mean, double[] invStd, RunningStats before, double eps, double[] normMean,
               double[] normInvStd, int channels);
}
