package io.github.batchnorm4j.diag;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.TrainerCallback;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Warns, once per layer at the first training step, about a BatchNorm placed directly after a sign-dependent
 * activation (ReLU and its relatives) in a sequential container. Its input is then rectified: BatchNorm
 * re-centres a half-clipped distribution, so a channel whose pre-activations drift negative feeds it nothing
 * but zeros and stops learning. The BN paper normalises {@code Wu + b} <em>before</em> the nonlinearity.
 * Only containers whose children run in registration order are inspected (by default {@link Sequential});
 * activations are recognised by class name ({@link #SIGN_DEPENDENT}), so user-written ones are covered too.
 */
public final class AfterActivationCheck implements TrainerCallback {
    /** Activation classes whose output depends on the sign of the input. */
    public static final Set<String> SIGN_DEPENDENT = Set.of("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU",
            "CELU", "SELU", "Hardtanh");

    private final WarningSink sink;
    private final Predicate<Module> sequential;
    private boolean checked;

    public AfterActivationCheck(WarningSink sink) {
        this(sink, m -> m instanceof Sequential);
    }

    /** {@code sequential} tells which containers run their children in registration order. */
    public AfterActivationCheck(WarningSink sink, Predicate<Module> sequential) {
        this.sink = sink;
        this.sequential = sequential;
    }

    @Override
    public void beforeTrainStep(Module model, long step, Tensor input) {
        if (!checked) {
            checked = true;
            check(model);
        }
    }

    /** Runs the check now (also usable outside training). */
    public void check(Module model) {
        inspect(model, "");
    }

    private void inspect(Module container, String prefix) {
        List<Map.Entry<String, Module>> kids = new ArrayList<>(container.children().entrySet());
        boolean ordered = sequential.test(container);
        for (int i = 0; i < kids.size(); i++) {
            Module m = Probes.unwrap(kids.get(i).getValue());
            String name = prefix + kids.get(i).getKey();
            if (ordered && i > 0 && m instanceof BatchNorm) {
                Module prev = Probes.unwrap(kids.get(i - 1).getValue());
                String act = prev.getClass().getSimpleName();
                if (SIGN_DEPENDENT.contains(act)) {
                    sink.warn("after-activation:" + name, message(name, m, prefix + kids.get(i - 1).getKey(), act));
                }
            }
            inspect(m, name + ".");
        }
    }

    static String message(String name, Module bn, String actName, String act) {
        return "[bn4j] " + bn.getClass().getSimpleName() + " '" + name + "' directly follows " + act + " '" + actName
                + "': it normalises a rectified, sign-dependent output (values clipped at zero), so a channel whose"
                + " pre-activations drift negative gives it only zeros and stops learning. Remedy: normalise before"
                + " the activation (Linear/Conv -> BatchNorm -> " + act + "), as the BN paper does.";
    }
}
