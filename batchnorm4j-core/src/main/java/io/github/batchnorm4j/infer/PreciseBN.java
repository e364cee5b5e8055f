package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PreciseBN: replaces the exponential moving averages in every {@link BatchNorm}'s running buffers by the exact
 * population statistics of its input over {@code K} batches, as seen by the <em>evaluation-mode</em> model.
 *
 * <p><b>What "exact" means.</b> In evaluation mode the input of a BN layer depends on the running statistics of
 * the BN layers executed before it. The layers are therefore recalibrated one at a time in execution order: for
 * layer {@code i}, the K batches run forward in eval mode (earlier layers already recalibrated) until they reach
 * layer {@code i}, whose input is accumulated per channel ({@link ChannelMoments}: count, mean and squared
 * deviations in double, merged across batches weighted by their element counts); the rest of the pass is
 * skipped. Cost: at most {@code layers × K} partial forward passes. The result is exactly what a single eval-mode
 * pass over the concatenated K batches would measure at every layer.
 *
 * <p><b>Stored values.</b> {@code running_mean = mean}; {@code running_var = M2 / (count - 1)}, the
 * <em>unbiased</em> variance, consistent with BN's convention that the running variance is updated with the
 * unbiased batch variance (as PyTorch). Parameters, {@code num_batches_tracked} and every other buffer are left
 * untouched; eval-mode forwards do not modify weights. The model's training flag is restored afterwards
 * ({@link Module#train(boolean)} with the top-level module's previous mode).
 *
 * <p>The batches must be the model's input tensors and {@code batches} must yield the same batches, in the same
 * order, each time it is iterated (it is iterated once per BN layer). BN layers without running statistics and
 * layers the forward pass never reaches are left as they are.
 */
public final class PreciseBN {
    private PreciseBN() {}

    /** What was recalibrated: the BN layers (by state-dict prefix) in execution order and the values per channel. */
    public record Report(List<String> layers, int batches, Map<String, Long> valuesPerChannel) {}

    /** Thrown by the observer to skip the rest of a forward pass once the layer of interest has its input. */
    private static final class StopForward extends RuntimeException {
        StopForward() {
            super(null, null, false, false);
        }
    }

    /**
     * Recalibrates the running statistics of every BN layer of {@code model} over the first {@code maxBatches}
     * batches of {@code batches}.
     *
     * @throws IllegalArgumentException when {@code maxBatches < 1}, when there is no batch, or when a channel sees
     *                                  fewer than two values (the unbiased variance is undefined)
     */
    public static Report recalibrate(Module model, Iterable<Tensor> batches, int maxBatches) {
        if (maxBatches < 1) {
            throw new IllegalArgumentException("Expected maxBatches >= 1, got " + maxBatches);
        }
        Map<String, BatchNorm> all = new LinkedHashMap<>();
        collect(model, "", all);
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            List<String> order = executionOrder(model, batches, all);
            Map<String, Long> counts = new LinkedHashMap<>();
            int used = 0;
            for (String name : order) {
                BatchNorm bn = all.get(name);
                ChannelMoments moments = new ChannelMoments(bn.numFeatures());
                bn.setInputObserver(x -> {
                    moments.add(x);
                    throw new StopForward();
                });
                try {
                    used = forEachBatch(model, batches, maxBatches);
                } finally {
                    bn.setInputObserver(null);
                }
                if (moments.count() < 2) {
                    throw new IllegalArgumentException("Expected at least 2 values per channel to estimate the"
                            + " variance of " + name + ", got " + moments.count());
                }
                float[] rm = bn.runningMean().data();
                float[] rv = bn.runningVar().data();
                for (int c = 0; c < rm.length; c++) {
                    rm[c] = (float) moments.mean(c);
                    rv[c] = (float) moments.unbiasedVariance(c);
                }
                counts.put(name, moments.count());
            }
            return new Report(List.copyOf(order), used, counts);
        } finally {
            model.train(wasTraining);
        }
    }

    /** Runs forward over the first {@code max} batches, ignoring {@link StopForward}; returns how many ran. */
    private static int forEachBatch(Module model, Iterable<Tensor> batches, int max) {
        int k = 0;
        for (Iterator<Tensor> it = batches.iterator(); it.hasNext() && k < max; k++) {
            Tensor b = it.next();
            try {
                model.forward(b);
            } catch (StopForward expected) {
                // the layer of interest has seen this batch; the rest of the pass is not needed
            }
        }
        return k;
    }

    /** The order in which one full eval forward of the first batch reaches the tracked BN layers. */
    private static List<String> executionOrder(Module model, Iterable<Tensor> batches, Map<String, BatchNorm> all) {
        Iterator<Tensor> it = batches.iterator();
        if (!it.hasNext()) {
            throw new IllegalArgumentException("Expected at least one batch for PreciseBN, got none");
        }
        List<String> order = new ArrayList<>();
        for (Map.Entry<String, BatchNorm> e : all.entrySet()) {
            String name = e.getKey();
            e.getValue().setInputObserver(x -> {
                if (!order.contains(name)) {
                    order.add(name);
                }
            });
        }
        try {
            model.forward(it.next());
        } finally {
            for (BatchNorm bn : all.values()) {
                bn.setInputObserver(null);
            }
        }
        return order;
    }

    private static void collect(Module m, String prefix, Map<String, BatchNorm> out) {
        if (m instanceof BatchNorm bn && bn.options().trackRunningStats()) {
            out.put(prefix.isEmpty() ? "(root)" : prefix.substring(0, prefix.length() - 1), bn);
        }
        for (Map.Entry<String, Module> c : m.children().entrySet()) {
            collect(c.getValue(), prefix + c.getKey() + ".", out);
        }
    }
}
