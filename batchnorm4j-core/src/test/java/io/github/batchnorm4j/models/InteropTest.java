package io.github.batchnorm4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.batchnorm4j.io.SafeTensors;
import io.github.batchnorm4j.io.SafeTensors.Entry;
import io.github.batchnorm4j.loss.CrossEntropyLoss;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.optim.Sgd;
import io.github.batchnorm4j.tensor.Tensor;
import io.github.batchnorm4j.train.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Models move between PyTorch and batchnorm4j with the same logits (tools/interop/interop.py writes and checks the
 * other side). PyTorch to Java: the committed torch_*.safetensors (trained 5 SGD steps in PyTorch) load into the
 * ModelFactory twin and give PyTorch's logits in eval and train mode within 1e-5. Java to PyTorch: the same
 * architectures trained 5 steps here; with {@code -Dbn4j.interop.regen=DIR} they are written as java_*.safetensors
 * into DIR for the script to check, otherwise the committed files must match what Java computes now.
 */
class InteropTest {
    static final double TOL = 1e-5;

    static Path resource(String name) throws Exception {
        return Path.of(InteropTest.class.getResource("/interop/" + name).toURI());
    }

    static ModelSpec spec(Map<String, String> meta) {
        return ModelSpec.fromMetadata(meta);
    }

    static Map<String, Entry> modelState(Map<String, Entry> all) {
        Map<String, Entry> m = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith("model.")) {
                m.put(k.substring("model.".length()), v);
            }
        });
        return m;
    }

    static Tensor tensor(Entry e) {
        return Tensor.of(e.toFloats(), e.shape());
    }

    static void assertClose(Entry want, Tensor got, double tol, String what) {
        assertArrayEquals(want.shape(), got.shape(), what);
        float[] w = want.toFloats();
        float[] g = got.toContiguousArray();
        double max = 0;
        for (int i = 0; i < w.length; i++) {
            max = Math.max(max, Math.abs(w[i] - g[i]));
        }
        assertEquals(0, max, tol, what + ": max |difference|");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp_bn_sigmoid", "mlp_ln_relu", "cnn_bn_relu", "cnn_gn_relu", "resnet_bn"})
    void pyTorchModelGivesTheSameLogits(String name) throws Exception {
        SafeTensors.Contents c = SafeTensors.read(resource("torch_" + name + ".safetensors"));
        Module m = ModelFactory.build(spec(c.metadata()), new SplittableRandom(1));
        StateDicts.load(m, modelState(c.tensors()));
        Tensor x = tensor(c.tensors().get("input"));
        m.eval();
        assertClose(c.tensors().get("logits_eval"), m.forward(x), TOL, name + " eval");
        m.train();
        assertClose(c.tensors().get("logits_train"), m.forward(x), TOL, name + " train");
    }

    /** The Java side's twin of interop.py's training: 5 SGD steps on seeded random batches of 16. */
    static Module trainInJava(ModelSpec spec, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Module m = ModelFactory.build(spec, rng);
        Sgd opt = new Sgd(m.namedParameters(), 0.1, 0.9, 0, false, 0, java.util.Set.of());
        CrossEntropyLoss loss = new CrossEntropyLoss();
        int[] in = spec.input();
        for (int s = 0; s < 5; s++) {
            Tensor x = randn(rng, 16, in[0], in[1], in[2]);
            int[] y = new int[16];
            for (int i = 0; i < y.length; i++) {
                y[i] = rng.nextInt(spec.classes());
            }
            m.zeroGrad();
            loss.forward(m.forward(x), y);
            m.backward(loss.backward());
            opt.step();
        }
        return m;
    }

    static Tensor randn(SplittableRandom rng, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            // Box-Muller; any fixed distribution works, the point is a non-trivial input
            d[i] = (float) (Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble()));
        }
        return t;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp_bn_sigmoid", "mlp_ln_relu", "cnn_bn_relu", "cnn_gn_relu", "resnet_bn"})
    void javaTrainedModelIsWhatWasGivenToPyTorch(String name) throws Exception {
        // Same architecture as the torch file of that name.
        ModelSpec spec = spec(SafeTensors.read(resource("torch_" + name + ".safetensors")).metadata());
        Module m = trainInJava(spec, name.hashCode());
        Tensor x = randn(new SplittableRandom(99), 8, spec.input()[0], spec.input()[1], spec.input()[2]);
        m.eval();
        Tensor le = m.forward(x);
        m.train();
        Tensor lt = m.forward(x);
        String regen = System.getProperty("bn4j.interop.regen");
        if (regen != null) {
            Map<String, Entry> out = new LinkedHashMap<>();
            StateDicts.of(m).forEach((k, v) -> out.put("model." + k, v));
            out.put("input", Entry.f32(x.data(), x.shape()));
            out.put("logits_eval", Entry.f32(le.data(), le.shape()));
            out.put("logits_train", Entry.f32(lt.data(), lt.shape()));
            Map<String, String> meta = new LinkedHashMap<>(spec.toMetadata());
            SafeTensors.write(Files.createDirectories(Path.of(regen)).resolve("java_" + name + ".safetensors"), out,
                    meta);
            return;
        }
        SafeTensors.Contents c = SafeTensors.read(resource("java_" + name + ".safetensors"));
        // The committed file still loads and reproduces its own logits ...
        Module back = ModelFactory.build(spec(c.metadata()), new SplittableRandom(5));
        StateDicts.load(back, modelState(c.tensors()));
        Tensor cx = tensor(c.tensors().get("input"));
        back.eval();
        assertClose(c.tensors().get("logits_eval"), back.forward(cx), TOL, name + " reload eval");
        back.train();
        assertClose(c.tensors().get("logits_train"), back.forward(cx), TOL, name + " reload train");
        // ... and is what this code trains now (a change in training numerics would need a regenerated file).
        assertClose(c.tensors().get("logits_eval"), le, 1e-4, name + " retrained eval");
    }
}
