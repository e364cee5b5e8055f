package io.github.batchnorm4j.diag;

import static io.github.batchnorm4j.diag.TestModels.ramp;
import static io.github.batchnorm4j.diag.TestModels.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.diag.TestModels.Scale;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.BatchRenorm;
import io.github.batchnorm4j.nn.norm.FrozenBatchNorm;
import io.github.batchnorm4j.nn.norm.GhostBatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiagnosticsTest {
    static final String REMEDIES = ". With fewer than 8 samples (or 16 values) per statistic the batch mean and"
            + " variance are noise (the values of one sample are correlated, so a large spatial size does not make up for few samples):"
            + " training can diverge and evaluation disagree with training. Remedies: GroupNorm or LayerNorm,"
            + " which do not depend on the batch (--norm gn|ln); BatchRenorm (--norm brn); a larger batch, or"
            + " SyncBatchNorm over several processes (--distributed); FrozenBatchNorm when fine-tuning a trained"
            + " model (--freeze-bn).";
    private final List<String> out = new ArrayList<>();
    private final WarningSink sink = new WarningSink(out::add);

    @Test
    void smallPerChannelCountIsReportedOnceWithTheLayerAndRemedy() {
        BatchNorm bn = new BatchNorm(3);
        Sequential model = new Sequential(new Scale(1), new Sequential(bn));
        List<TrainerCallback> cb = List.of(new SmallBatchCheck(sink));
        for (int s = 0; s < 3; s++) {
            step(model, cb, s, ramp(2, 3), ramp(2, 3));
        }
        assertEquals(List.of("[bn4j] Small-batch statistics: BatchNorm '1.0' from 2 samples (batch 2)"
                + REMEDIES), out);
        assertSame(bn, ((Module) model.children().get("1")).children().get("0"), "probe removed after the step");
    }

    @Test
    void aConvolutionalBatchOfTwoImagesIsSmallWhateverItsSpatialSize() {
        // 2 images of 8x8: 128 values per channel, yet only two samples behind each mean and variance.
        Sequential model = new Sequential(new BatchNorm(3), new Sequential(new BatchNorm(3)));
        List<TrainerCallback> cb = List.of(new SmallBatchCheck(sink));
        for (int s = 0; s < 2; s++) {
            step(model, cb, s, ramp(2, 3, 8, 8), ramp(2, 3, 8, 8));
        }
        assertEquals(List.of("[bn4j] Small-batch statistics: BatchNorm '0' from 2 samples (batch 2 x spatial 64 = 128"
                + " values per channel); BatchNorm '1.0' from 2 samples (batch 2 x spatial 64 = 128 values per"
                + " channel)" + REMEDIES), out);
    }

    @Test
    void perRankBatchesOfUnsynchronizedBatchNormSayPerRank() {
        Sequential model = new Sequential(new BatchNorm(3));
        step(model, List.of(new SmallBatchCheck(sink, 4)), 0, ramp(8, 3), ramp(8, 3));
        assertEquals(List.of("[bn4j] Small-batch statistics: BatchNorm '0' from 8 samples (batch 8 per rank, not"
                + " synchronized)" + REMEDIES), out);
    }

    @Test
    void ghostBatchesCountTheirVirtualBatchAndRenormAndLargeInputsAreNotReported() {
        Sequential model = new Sequential(new GhostBatchNorm(2, 4), new BatchRenorm(2), new BatchNorm(2));
        step(model, List.of(new SmallBatchCheck(sink)), 0, ramp(16, 2, 1, 3), ramp(16, 2, 1, 3));
        assertEquals(List.of("[bn4j] Small-batch statistics: GhostBatchNorm '0' from 4 samples (virtual batch 4 x"
                + " spatial 3 = 12 values per channel)" + REMEDIES), out);
        model.eval();
        step(model, List.of(new SmallBatchCheck(sink)), 1, ramp(2, 2), ramp(2, 2));
        assertEquals(1, out.size(), "evaluation-mode forwards are not training");
    }

    @Test
    void batchNormDirectlyAfterReluIsReported() {
        Sequential model = new Sequential(new Scale(1), new BatchNorm(3), new ReLU(),
                new Sequential(new ReLU(), new BatchNorm(3)), new ReLU(), new GroupNorm(1, 3));
        step(model, List.of(new AfterActivationCheck(sink)), 0, ramp(4, 3), ramp(4, 3));
        step(model, List.of(new AfterActivationCheck(sink)), 1, ramp(4, 3), ramp(4, 3));
        assertEquals(List.of("[bn4j] BatchNorm '3.1' directly follows ReLU '3.0': it normalises a rectified,"
                + " sign-dependent output (values clipped at zero), so a channel whose pre-activations drift negative"
                + " gives it only zeros and stops learning. Remedy: normalise before the activation (Linear/Conv ->"
                + " BatchNorm -> ReLU), as the BN paper does."), out);
    }

    @Test
    void evaluationInTrainingModeIsReported() {
        Sequential model = new Sequential(new Scale(1), new BatchNorm(3));
        EvalModeCheck check = new EvalModeCheck(sink);
        model.eval();
        check.beforeEvaluate(model, 10);
        assertEquals(List.of(), out);
        model.train();
        check.beforeEvaluate(model, 20);
        check.beforeEvaluate(model, 30);
        assertEquals(List.of("[bn4j] evaluation at step 20 runs with 3 module(s) in training mode (first: BatchNorm"
                + " '1'): BatchNorm normalises with each evaluation batch's statistics and overwrites its running"
                + " statistics, and Dropout drops units, so the predictions differ from inference. Remedy: call"
                + " model.eval() before evaluating and model.train() afterwards."), out);
    }

    @Test
    void invalidRunningStatisticsAreReportedPerLayer() {
        BatchNorm a = new BatchNorm(3);
        BatchNorm b = new BatchNorm(2);
        FrozenBatchNorm f = new FrozenBatchNorm(2, 1e-5);
        Sequential model = new Sequential(a, b, f);
        RunningStatsCheck check = new RunningStatsCheck(sink);
        check.check(model, 0);
        assertEquals(List.of(), out);
        a.runningVar().data()[1] = Float.NaN;
        b.runningVar().data()[0] = -0.5f;
        f.runningMean().data()[1] = Float.POSITIVE_INFINITY;
        check.afterTrainStep(model, 7, 1.0);
        check.beforeEvaluate(model, 8);
        String tail = ": evaluation will output NaN or garbage. Remedy: a diverged step (lower the learning rate, clip"
                + " gradients) or NaN/Inf in the input are the usual causes; reload the last good checkpoint, or reset"
                + " the statistics (running_mean = 0, running_var = 1) and re-estimate them with a few training-mode"
                + " passes.";
        assertEquals(List.of(
                "[bn4j] BatchNorm '0' has invalid running statistics at step 7 (running_var[1] = NaN)" + tail,
                "[bn4j] BatchNorm '1' has invalid running statistics at step 7 (running_var[0] = -0.5)" + tail,
                "[bn4j] FrozenBatchNorm '2' has invalid running statistics at step 7 (running_mean[1] = Infinity)"
                        + tail), out);
    }

    @Test
    void momentumOutsideTheUsualRangeIsExplained() {
        Sequential model = new Sequential(new BatchNorm(2, NormOptions.BATCH_NORM.withMomentum(0.9)),
                new BatchNorm(2, NormOptions.BATCH_NORM.withMomentum(1e-4)),
                new BatchNorm(2, NormOptions.BATCH_NORM.withMomentum(0.0)),
                new BatchNorm(2), new BatchNorm(2, NormOptions.BATCH_NORM.withMomentum(null)));
        MomentumCheck check = new MomentumCheck(sink);
        check.beforeTrainStep(model, 0, null);
        check.beforeTrainStep(model, 1, null);
        String head = " outside the usual range 0.001 to 0.5. Here momentum is the weight of the NEW batch:"
                + " running = (1 - momentum) * running + momentum * batch";
        assertEquals(List.of(
                "[bn4j] BatchNorm '0' has momentum 0.9," + head + ", so the running statistics follow only the last ~1"
                        + " batch(es) and evaluation sees noise. Keras/TensorFlow state it the other way round: their"
                        + " momentum 0.9 is 0.1 here. Remedy: use a momentum between 0.001 and 0.5 (default 0.1).",
                "[bn4j] BatchNorm '1' has momentum 1.0E-4," + head + ", so the running statistics average over ~10000"
                        + " batches and remember statistics of weights long since updated (stale), so evaluation"
                        + " normalises with outdated values. Remedy: use a momentum between 0.001 and 0.5 (default"
                        + " 0.1), or re-estimate the statistics after training.",
                "[bn4j] BatchNorm '2' has momentum 0.0," + head + "; with 0 the running statistics never change and"
                        + " evaluation normalises with their initial values (mean 0, variance 1). Remedy: use momentum"
                        + " 0.1, or null for a cumulative average."), out);
    }

    @Test
    void zeroVarianceChannelIsReported() {
        Sequential model = new Sequential(new Scale(1), new BatchNorm(3));
        Tensor x = ramp(4, 3, 2);
        for (int i = 0; i < 4; i++) {
            x.set(0f, i, 2, 0);
            x.set(0f, i, 2, 1);
        }
        List<TrainerCallback> cb = List.of(new ZeroVarianceCheck(sink, 2));
        step(model, cb, 1, x, ramp(4, 3, 2)); // not a checked step
        assertEquals(List.of(), out);
        step(model, cb, 2, x, ramp(4, 3, 2));
        step(model, cb, 4, x, ramp(4, 3, 2));
        assertEquals(List.of("[bn4j] BatchNorm '1' channel 2 has zero variance in the training batch at step 2 (all 8"
                + " values equal 0.0): its output is the constant beta and its input gradient is scaled by"
                + " 1/sqrt(eps) = 316.2. Remedy: look for a dead unit before it (a ReLU that never fires: lower the"
                + " learning rate, check the initialisation), a constant input feature, or remove the channel."), out);
    }

    @Test
    void healthyModelTrainsWithoutWarningsAndStateNamesAreUnchanged() {
        Sequential model = new Sequential(new Scale(1), new BatchNorm(3), new ReLU(), new Scale(2),
                new BatchNorm(3), new ReLU());
        List<String> keys = List.copyOf(model.namedBuffers().keySet());
        List<TrainerCallback> all = Diagnostics.defaults(sink);
        for (int s = 0; s < 3; s++) {
            step(model, all, s, ramp(8, 3, 2, 2), ramp(8, 3, 2, 2));
            assertEquals(keys, List.copyOf(model.namedBuffers().keySet()));
        }
        model.eval();
        for (TrainerCallback c : all) {
            c.beforeEvaluate(model, 3);
        }
        assertEquals(List.of(), out);
    }

    @Test
    void everyDefaultCheckFiresOnABrokenModel() {
        BatchNorm last = new BatchNorm(3, NormOptions.BATCH_NORM.withMomentum(0.95));
        Sequential model = new Sequential(new Scale(1), new ReLU(), last);
        List<TrainerCallback> all = Diagnostics.defaults(sink);
        Tensor x = ramp(2, 3);
        x.set(1f, 0, 0);
        x.set(1f, 1, 0);
        step(model, all, 0, x, ramp(2, 3));
        last.runningVar().data()[2] = Float.NaN;
        for (TrainerCallback c : all) {
            c.beforeEvaluate(model, 1);
        }
        List<String> starts = out.stream().map(m -> String.join(" ", List.of(m.split(" ")).subList(0, 5))).toList();
        assertEquals(List.of("[bn4j] BatchNorm '2' directly follows", "[bn4j] BatchNorm '2' has momentum",
                "[bn4j] BatchNorm '2' channel 0", "[bn4j] Small-batch statistics: BatchNorm '2'",
                "[bn4j] evaluation at step 1", "[bn4j] BatchNorm '2' has invalid"), starts);
    }
}
