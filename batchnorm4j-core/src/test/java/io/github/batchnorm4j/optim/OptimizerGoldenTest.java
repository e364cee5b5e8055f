package io.github.batchnorm4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each optimizer against torch.optim trajectories (tools/interop/optim_golden.py): same initial values, same
 * gradients, five steps; "b" is excluded from weight decay as a bias would be.
 */
class OptimizerGoldenTest {
    private static SafeTensors.Contents golden;

    static synchronized SafeTensors.Contents golden() throws Exception {
        if (golden == null) {
            golden = SafeTensors.read(Path.of(OptimizerGoldenTest.class.getResource("/golden/optim.safetensors").toURI()));
        }
        return golden;
    }

    static Optimizer make(String name, Map<String, Parameter> ps) {
        Set<String> nd = Set.of("b");
        return switch (name) {
            case "sgd" -> new Sgd(ps, 0.1);
            case "sgd_momentum_wd" -> new Sgd(ps, 0.05, 0.9, 0, false, 0.01, nd);
            case "sgd_dampening" -> new Sgd(ps, 0.05, 0.8, 0.3, false, 0, nd);
            case "sgd_nesterov_wd" -> new Sgd(ps, 0.05, 0.9, 0, true, 0.02, nd);
            case "adam" -> new Adam(ps, 0.01);
            case "adam_wd" -> new Adam(ps, 0.01, 0.8, 0.99, 1e-6, 0.1, nd, false);
            case "adamw" -> Adam.adamW(ps, 0.01, 0.1, nd);
            default -> throw new AssertionError(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "sgd_momentum_wd", "sgd_dampening", "sgd_nesterov_wd", "adam", "adam_wd", "adamw"})
    void matchesPyTorch(String name) throws Exception {
        Map<String, SafeTensors.Entry> t = golden().tensors();
        Function<String, Tensor> get = k -> {
            SafeTensors.Entry e = t.get(name + "." + k);
            return Tensor.of(e.toFloats(), e.shape());
        };
        Map<String, Parameter> ps = new LinkedHashMap<>();
        ps.put("w", new Parameter(get.apply("w.init")));
        ps.put("b", new Parameter(get.apply("b.init")));
        Optimizer opt = make(name, ps);
        int steps = Integer.parseInt(golden().metadata().get("steps"));
        for (int s = 0; s < steps; s++) {
            for (String p : new String[] {"w", "b"}) {
                System.arraycopy(get.apply(p + ".grad" + s).data(), 0, ps.get(p).grad().data(), 0,
                        ps.get(p).grad().numel());
            }
            opt.step();
            for (String p : new String[] {"w", "b"}) {
                float[] want = get.apply(p + ".step" + s).data();
                float[] got = ps.get(p).data();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 2e-6 * Math.max(1, Math.abs(want[i])),
                            name + " " + p + "[" + i + "] after step " + s);
                }
            }
        }
        assertEquals(steps, opt.steps());
        assertTrue(name.startsWith("sgd") && !name.equals("sgd") ? !opt.state().isEmpty() : true);
    }
}
