package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.Map;

/**
 * Warns (once) when an evaluation starts while modules are still in training mode: BatchNorm would normalise
 * with the evaluation batch's statistics and overwrite its running statistics, and Dropout would drop units, so
 * the reported accuracy is not the model's inference accuracy.
 */
public final class EvalModeCheck implements TrainerCallback {
    private final WarningSink sink;

    public EvalModeCheck(WarningSink sink) {
        this.sink = sink;
    }

    @Override
    public void beforeEvaluate(Module model, long step) {
        int count = model.isTraining() ? 1 : 0;
        String first = null;
        String firstBn = null;
        for (Map.Entry<String, Module> e : Probes.named(model).entrySet()) {
            Module m = e.getValue();
            if (m.isTraining()) {
                count++;
                if (first == null) {
                    first = e.getKey();
                }
                if (firstBn == null && m instanceof BatchNorm) {
                    firstBn = e.getKey();
                }
            }
        }
        if (count > 0) {
            String named = firstBn != null ? "BatchNorm '" + firstBn + "'"
                    : first != null ? "'" + first + "'" : "the model itself";
            sink.warn("eval-in-train-mode", "[bn4j] evaluation at step " + step + " runs with " + count
                    + " module(s) in training mode (first: " + named + "): BatchNorm normalises with each evaluation"
                    + " batch's statistics and overwrites its running statistics, and Dropout drops units, so the"
                    + " predictions differ from inference. Remedy: call model.eval() before evaluating and"
                    + " model.train() afterwards.");
        }
    }
}
