package io.github.batchnorm4j.nn;

import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.function.IntFunction;
import java.util.random.RandomGenerator;

/**
 * The residual block of ResNet-18/34 (He et al., 2016), laid out like torchvision's {@code BasicBlock}:
 * {@code out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))} with 3x3 convolutions without bias
 * ({@code conv1} carries the stride) and {@code shortcut} = identity, or {@code downsample} = Sequential(conv1x1
 * with the stride, norm) when the stride is not 1 or the channel count changes. Children: {@code conv1},
 * {@code bn1}, {@code conv2}, {@code bn2}, {@code downsample}; {@code norm.apply(channels)} builds each norm layer.
 */
public final class BasicBlock extends Module {
    private final Conv2d conv1;
    private Module bn1;
    private final Conv2d conv2;
    private Module bn2;
    private final Sequential downsample;
    private final ReLU relu1 = new ReLU();
    private final ReLU relu2 = new ReLU();
    private final String name;
    private Tensor sum;
    /** Whether the last forward ran bn1 + ReLU, and bn2 + add + ReLU, as fused passes of the norm layer. */
    private boolean fused1;
    private boolean fused2;
    private Tensor gradInput;

    public BasicBlock(int inChannels, int outChannels, int stride, IntFunction<Module> norm, RandomGenerator rng) {
        this.conv1 = registerModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1, false, rng));
        this.bn1 = registerModule("bn1", norm.apply(outChannels));
        this.conv2 = registerModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, false, rng));
        this.bn2 = registerModule("bn2", norm.apply(outChannels));
        if (stride != 1 || inChannels != outChannels) {
            this.downsample = registerModule("downsample", new Sequential(
                    new Conv2d(inChannels, outChannels, 1, stride, 0, false, rng), norm.apply(outChannels)));
        } else {
            this.downsample = null;
        }
        this.name = "BasicBlock(in_channels=" + inChannels + ", out_channels=" + outChannels + ", stride=" + stride
                + ")";
    }

    public Conv2d conv1() {
        return conv1;
    }

    public Conv2d conv2() {
        return conv2;
    }

    /** The projection shortcut, or null for the identity shortcut. */
    public Sequential downsample() {
        return downsample;
    }

    @Override
    public Module reuseBuffers(boolean on) {
        super.reuseBuffers(on);
        relu1.reuseBuffers(on); // not registered children: they hold no state
        relu2.reuseBuffers(on);
        return this;
    }

    /**
     * The block's forward. When a norm layer fuses the ReLU epilogue ({@link ReluFusion}: BatchNorm),
     * {@code relu(bn1(.))} and {@code relu(bn2(.) + shortcut)} are each one pass of that layer; otherwise (other
     * norm layers, synchronized BatchNorm, probes) the norm, the add and the ReLU run one by one. Same result
     * either way.
     */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != conv1.inChannels()) {
            throw Buffers.badInput(this, "[N, " + conv1.inChannels() + ", H, W]", x);
        }
        fused1 = bn1 instanceof ReluFusion f1 && f1.fusesRelu();
        fused2 = bn2 instanceof ReluFusion f2 && f2.fusesRelu();
        Tensor h = conv1.forward(x);
        Tensor a = fused1 ? ((ReluFusion) bn1).forwardRelu(h, null) : relu1.forward(bn1.forward(h));
        Tensor c = conv2.forward(a);
        Tensor shortcut = downsample == null ? x : downsample.forward(x);
        if (fused2) {
            return ((ReluFusion) bn2).forwardRelu(c, shortcut);
        }
        Tensor main = bn2.forward(c).to(MemoryFormat.CONTIGUOUS);
        Tensor b = shortcut.to(MemoryFormat.CONTIGUOUS);
        sum = Buffers.ensure(sum, main.shape());
        float[] s = sum.data();
        float[] av = main.data();
        float[] bv = b.data();
        for (int i = 0; i < s.length; i++) {
            s[i] = av[i] + bv[i];
        }
        return relu2.forward(sum);
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
        Tensor g;
        Tensor gShort;
        if (fused2) {
            g = bn2.backward(gradOutput);
            gShort = ((ReluFusion) bn2).residualGradient();
        } else {
            gShort = relu2.backward(gradOutput);
            g = bn2.backward(gShort);
        }
        // the main branch's backward reuses no buffer of relu2 or bn2, so gShort stays valid for the shortcut
        Tensor dA = conv2.backward(g);
        Tensor dMain = conv1.backward(fused1 ? bn1.backward(dA) : bn1.backward(relu1.backward(dA)));
        Tensor dShort = downsample == null ? gShort : downsample.backward(gShort);
        Tensor a = dMain.to(MemoryFormat.CONTIGUOUS);
        Tensor b = dShort.to(MemoryFormat.CONTIGUOUS);
        gradInput = Buffers.result(this, gradInput, a.shape());
        float[] d = gradInput.data();
        float[] av = a.data();
        float[] bv = b.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = av[i] + bv[i];
        }
        return gradInput;
    }

    /**
     * Replaces {@code bn1} or {@code bn2} (the norm layers, for {@code freezeBatchNorm} and diagnostics probes);
     * the convolutions and the shortcut are run by type and cannot be replaced.
     */
    @Override
    public Module replaceChild(String child, Module replacement) {
        if (!child.equals("bn1") && !child.equals("bn2")) {
            throw new IllegalArgumentException("Expected bn1 or bn2 (the replaceable children of BasicBlock), got '"
                    + child + "'");
        }
        Module old = super.replaceChild(child, replacement);
        if (child.equals("bn1")) {
            bn1 = replacement;
        } else {
            bn2 = replacement;
        }
        return old;
    }

    @Override
    public String toString() {
        return name;
    }
}
