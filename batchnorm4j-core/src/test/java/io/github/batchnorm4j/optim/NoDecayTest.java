package io.github.batchnorm4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NoDecayTest {
    /** A container with its own weight and bias plus a BatchNorm child, enough to exercise the naming. */
    static final class Net extends Module {
        Net() {
            registerParameter("weight", Tensor.full(1f, 2, 2));
            registerParameter("bias", Tensor.zeros(2));
            registerModule("bn", new BatchNorm(3));
        }

        @Override
        public Tensor forward(Tensor input) {
            return input;
        }

        @Override
        public Tensor backward(Tensor gradOutput) {
            return gradOutput;
        }
    }

    @Test
    void picksNormParametersAndBiases() {
        assertEquals(List.of("bias", "bn.weight", "bn.bias"), List.copyOf(NoDecay.normAndBias(new Net())));
    }

    @Test
    void excludedParameterIsNotDecayed() {
        Net net = new Net();
        Map<String, Parameter> ps = net.namedParameters();
        Sgd sgd = new Sgd(ps, 0.1, 0, 0, false, 0.5, NoDecay.normAndBias(net));
        sgd.step(); // zero gradients: only weight decay moves anything
        assertEquals(1f - 0.1f * 0.5f, ps.get("weight").data()[0]);
        assertEquals(1f, ps.get("bn.weight").data()[0]);
    }

    @Test
    void unknownNameIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Sgd(new Net().namedParameters(), 0.1, 0, 0, false, 0.1, Set.of("nope")));
        assertEquals("Expected no-decay names among the parameters, got unknown 'nope'", e.getMessage());
    }
}
