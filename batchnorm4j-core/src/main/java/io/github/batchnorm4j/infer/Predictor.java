package io.github.batchnorm4j.infer;

import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model prepared for serving: BatchNorm folded away ({@link Fold}), then planned as a list of steps in which a
 * {@link Conv2d} directly followed by a {@link ReLU} is one step (the ReLU applied as the convolution writes its
 * output), a 3x3 stride-1 convolution with at least 8 input channels on an image of at least 12x12 runs by
 * Winograd's F(2x2, 3x3) (with its ReLU and a following 2x2 max pool in the same step), a stride-1 convolution
 * with fewer than 32 weights per output (a first layer on grey or RGB images) runs as direct loops over the padded
 * plane, and a folded residual block adds its branches and applies its ReLU in one pass. Every step writes into a
 * buffer kept from the previous call of the same input shape (the layers' own, with {@link Module#reuseBuffers}),
 * so after the first batch of a shape a prediction allocates only the tensor it returns.
 *
 * <p>{@link #predict} returns a new tensor the caller owns; its values equal the eval-mode model's up to float
 * rounding (the folded weights are rounded once; the Winograd transforms reorder the sums, within about 1e-6 of
 * the largest output on the built-in models). A predictor holds buffers and is
 * therefore not thread-safe: use one per thread. The model passed in is not modified.
 *
 * <pre>{@code
 * Predictor p = Models.load(Path.of("run")).predictor();
 * Tensor logits = p.predict(images);          // [N, classes]
 * }</pre>
 */
public final class Predictor {
    /** One step of the plan: input in, output out (the output may be a reused buffer). */
    private interface Step {
        Tensor run(Tensor x);
    }

    private final Module folded;
    private final List<Step> steps;

    private Predictor(Module folded) {
        this.folded = folded;
        this.steps = plan(folded);
    }

    /** Folds {@code model} (which is left as it is) and plans the result. */
    public static Predictor of(Module model) {
        Module folded = Fold.fold(model);
        folded.eval().reuseBuffers(true);
        return new Predictor(folded);
    }

    /** The folded eval-mode model the plan runs (its layers' buffers are the predictor's). */
    public Module model() {
        return folded;
    }

    /** The model's output for {@code x}, in a new tensor; {@code x} is not modified. */
    public Tensor predict(Tensor x) {
        Tensor h = x;
        for (Step s : steps) {
            h = s.run(h);
        }
        return h.copy();
    }

    /**
     * Steps over a Sequential's layers: Winograd for the eligible 3x3 convolutions (with a following ReLU and 2x2
     * max pool), the direct loops for stride-1 convolutions with few weights, Conv2d + ReLU fused for the others;
     * any other module is one step of its own.
     */
    private static List<Step> plan(Module m) {
        List<Step> out = new ArrayList<>();
        if (m instanceof Sequential seq) {
            for (int i = 0; i < seq.size(); i++) {
                Module layer = seq.get(i);
                if (layer instanceof Conv2d conv && WinogradConv.eligible(conv)) {
                    boolean relu = i + 1 < seq.size() && seq.get(i + 1) instanceof ReLU;
                    int next = i + (relu ? 2 : 1);
                    MaxPool2d pool = next < seq.size() && seq.get(next) instanceof MaxPool2d mp
                            && mp.kernelSize() == 2 && mp.stride() == 2 ? mp : null;
                    out.add(new WinogradConv(conv, relu, pool)::run);
                    i = next - 1 + (pool == null ? 0 : 1);
                } else if (layer instanceof Conv2d conv && DirectConv.eligible(conv)) {
                    boolean relu = i + 1 < seq.size() && seq.get(i + 1) instanceof ReLU;
                    out.add(new DirectConv(conv, relu)::run);
                    i += relu ? 1 : 0;
                } else if (layer instanceof Conv2d conv && i + 1 < seq.size() && seq.get(i + 1) instanceof ReLU) {
                    out.add(x -> conv.forward(x, true));
                    i++;
                } else if (layer instanceof Residual r) {
                    out.add(new ResidualStep(plan(r.body()), r.shortcut() == null ? null : plan(r.shortcut())));
                } else {
                    out.add(layer::forward);
                }
            }
        } else if (m instanceof Residual r) {
            out.add(new ResidualStep(plan(r.body()), r.shortcut() == null ? null : plan(r.shortcut())));
        } else {
            out.add(m::forward);
        }
        return out;
    }

    private static Tensor runAll(List<Step> steps, Tensor x) {
        Tensor h = x;
        for (Step s : steps) {
            h = s.run(h);
        }
        return h;
    }

    /** {@code relu(body(x) + shortcut(x))} (shortcut: identity when null), as {@link Residual}, into a kept buffer. */
    private static final class ResidualStep implements Step {
        private final List<Step> body;
        private final List<Step> shortcut;
        private Tensor out;

        ResidualStep(List<Step> body, List<Step> shortcut) {
            this.body = body;
            this.shortcut = shortcut;
        }

        @Override
        public Tensor run(Tensor x) {
            Tensor a = runAll(body, x).to(MemoryFormat.CONTIGUOUS);
            Tensor s = (shortcut == null ? x : runAll(shortcut, x)).to(MemoryFormat.CONTIGUOUS);
            if (!Arrays.equals(a.shape(), s.shape())) {
                throw new IllegalArgumentException("Expected the residual branches to agree in shape, got body "
                        + a.shapeString() + " and shortcut " + s.shapeString());
            }
            if (out == null || !Arrays.equals(out.shape(), a.shape())) {
                out = Tensor.zeros(a.shape());
            }
            float[] pa = a.data(), ps = s.data(), py = out.data();
            for (int i = 0; i < py.length; i++) {
                py[i] = Math.max(pa[i] + ps[i], 0f);
            }
            return out;
        }
    }
}
