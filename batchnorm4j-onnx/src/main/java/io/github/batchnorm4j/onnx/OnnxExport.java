package io.github.batchnorm4j.onnx;

import io.github.batchnorm4j.infer.ChannelAffine;
import io.github.batchnorm4j.infer.Residual;
import io.github.batchnorm4j.io.AtomicFiles;
import io.github.batchnorm4j.nn.AvgPool2d;
import io.github.batchnorm4j.nn.BasicBlock;
import io.github.batchnorm4j.nn.Conv2d;
import io.github.batchnorm4j.nn.Dropout;
import io.github.batchnorm4j.nn.Flatten;
import io.github.batchnorm4j.nn.GlobalAvgPool2d;
import io.github.batchnorm4j.nn.Identity;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.MaxPool2d;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.Sigmoid;
import io.github.batchnorm4j.nn.Tanh;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.onnx.proto.Onnx.ModelProto;
import io.github.batchnorm4j.onnx.proto.Onnx.OperatorSetIdProto;
import io.github.batchnorm4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes a model as a standard ONNX model (IR version 7, default-domain operator set 13), in evaluation form.
 *
 * <p>Mapping: {@link Linear} -&gt; {@code Gemm(transB=1)}; {@link Conv2d} -&gt; {@code Conv}; {@link BatchNorm}
 * (with running statistics) -&gt; {@code BatchNormalization} in inference form (inputs scale, B, mean, var;
 * {@code epsilon}); {@link ChannelAffine} -&gt; {@code Mul}, {@code Add}; {@link ReLU}, {@link Sigmoid},
 * {@link Tanh} -&gt; {@code Relu}, {@code Sigmoid}, {@code Tanh}; {@link MaxPool2d}, {@link AvgPool2d} -&gt;
 * {@code MaxPool}, {@code AveragePool}; {@link GlobalAvgPool2d} -&gt; {@code GlobalAveragePool} + {@code Flatten}
 * (ours returns {@code (N, C)}); {@link Flatten} -&gt; {@code Flatten(axis=1)}; {@link BasicBlock} and
 * {@link Residual} -&gt; their branches, {@code Add}, {@code Relu}; {@link Sequential} -&gt; its children in order;
 * {@link Identity} and {@link Dropout} (identity in eval mode) -&gt; nothing. Optionally a final
 * {@code Softmax(axis=1)}.
 *
 * <p><b>Momentum convention.</b> ONNX's {@code BatchNormalization.momentum} is the weight of the <em>old</em>
 * running value ({@code running = momentum * running + (1 - momentum) * batch}); ours (PyTorch's) is the weight
 * of the new batch. The exporter writes {@code momentum = 1 - ours} (omitted for the cumulative average, which
 * ONNX cannot express). It only matters for training in ONNX; inference ignores it.
 *
 * <p>The graph input is {@code input} with shape {@code [N, inputShape...]} (N symbolic) and the output
 * {@code output} (logits, or probabilities with softmax). Shapes of every value are found by running the model
 * (in eval mode) on one zero sample. A layer type with no mapping is rejected with an
 * {@link IllegalArgumentException} that names it.
 */
public final class OnnxExport {
    /** ONNX IR version 7 is the one that introduced operator set 13. */
    static final long IR_VERSION = 7;
    static final long OPSET = 13;
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";

    private final GraphBuilder g = new GraphBuilder();

    private OnnxExport() {}

    /** A value in the graph: its name and a sample (batch of one) computed by our model, for its shape. */
    private record Value(String name, Tensor sample) {}

    /**
     * The ONNX model of {@code model} for inputs of shape {@code [N, inputShape...]}.
     *
     * @param softmax append {@code Softmax(axis=1)} so the output is probabilities
     */
    public static ModelProto toModel(Module model, int[] inputShape, boolean softmax, String producerVersion) {
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            OnnxExport e = new OnnxExport();
            int[] sampleShape = new int[inputShape.length + 1];
            sampleShape[0] = 1;
            System.arraycopy(inputShape, 0, sampleShape, 1, inputShape.length);
            Value in = new Value(INPUT, Tensor.zeros(sampleShape));
            Value out = e.emit(model, "", in);
            String last = out.name();
            if (softmax) {
                last = e.g.node("Softmax", "softmax", new String[] {last}, GraphBuilder.integer("axis", 1));
            }
            e.g.nodeTo("Identity", OUTPUT, last);
            int[] inDims = sampleShape.clone();
            inDims[0] = -1;
            int[] outDims = out.sample().shape();
            outDims[0] = -1;
            e.g.graph().setName("batchnorm4j").addInput(GraphBuilder.tensorInfo(INPUT, inDims))
                    .addOutput(GraphBuilder.tensorInfo(OUTPUT, outDims));
            return ModelProto.newBuilder()
                    .setIrVersion(IR_VERSION)
                    .setProducerName("batchnorm4j")
                    .setProducerVersion(producerVersion)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .setGraph(e.g.graph())
                    .build();
        } finally {
            model.train(wasTraining);
        }
    }

    /** Writes {@link #toModel} to {@code file} atomically (a failed export leaves no partial file). */
    public static void write(Module model, int[] inputShape, boolean softmax, String producerVersion, Path file)
            throws IOException {
        ModelProto proto = toModel(model, inputShape, softmax, producerVersion);
        AtomicFiles.write(file, proto::writeTo);
    }

    private Value emit(Module m, String path, Value in) {
        if (m instanceof Sequential seq) {
            Value v = in;
            for (int i = 0; i < seq.size(); i++) {
                v = emit(seq.get(i), join(path, Integer.toString(i)), v);
            }
            return v;
        }
        if (m instanceof Identity || m instanceof Dropout) {
            return in;
        }
        if (m instanceof BasicBlock block) {
            Map<String, Module> ch = block.children();
            Value a = emit(ch.get("conv1"), join(path, "conv1"), in);
            a = emit(ch.get("bn1"), join(path, "bn1"), a);
            a = unary("Relu", join(path, "relu1"), a);
            a = emit(ch.get("conv2"), join(path, "conv2"), a);
            a = emit(ch.get("bn2"), join(path, "bn2"), a);
            Module down = ch.get("downsample");
            Value s = down == null ? in : emit(down, join(path, "downsample"), in);
            return addRelu(path, a, s, block.forward(in.sample()));
        }
        if (m instanceof Residual r) {
            Value a = emit(r.body(), join(path, "body"), in);
            Value s = r.shortcut() == null ? in : emit(r.shortcut(), join(path, "shortcut"), in);
            return addRelu(path, a, s, r.forward(in.sample()));
        }
        String name = leaf(m, path, in); // first: it rejects what cannot be exported before anything runs
        return new Value(name, m.forward(in.sample()));
    }

    private Value addRelu(String path, Value a, Value s, Tensor out) {
        String sum = g.node("Add", join(path, "add"), new String[] {a.name(), s.name()});
        return new Value(g.node("Relu", join(path, "relu"), new String[] {sum}), out);
    }

    private Value unary(String op, String path, Value in) {
        return new Value(g.node(op, path, new String[] {in.name()}), in.sample());
    }

    /** Emits the node(s) of a layer without children; returns the output name. */
    private String leaf(Module m, String path, Value in) {
        String x = in.name();
        String p = path.isEmpty() ? m.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) : path;
        if (m instanceof Linear lin) {
            Tensor w = lin.weight().value();
            String wn = g.constant(p + ".weight", w.toContiguousArray(), w.dim(0), w.dim(1));
            String[] ins = lin.bias() == null ? new String[] {x, wn}
                    : new String[] {x, wn, g.constant(p + ".bias", lin.bias().data(), w.dim(0))};
            return g.node("Gemm", p, ins, GraphBuilder.integer("transB", 1));
        }
        if (m instanceof Conv2d conv) {
            Tensor w = conv.weight().value();
            String wn = g.constant(p + ".weight", w.toContiguousArray(), w.dim(0), w.dim(1), w.dim(2), w.dim(3));
            String[] ins = conv.bias() == null ? new String[] {x, wn}
                    : new String[] {x, wn, g.constant(p + ".bias", conv.bias().data(), w.dim(0))};
            int k = conv.kernelSize(), s = conv.stride(), pad = conv.padding();
            return g.node("Conv", p, ins, GraphBuilder.ints("kernel_shape", k, k), GraphBuilder.ints("strides", s, s),
                    GraphBuilder.ints("pads", pad, pad, pad, pad), GraphBuilder.ints("dilations", 1, 1),
                    GraphBuilder.integer("group", 1));
        }
        if (m instanceof BatchNorm bn) {
            return batchNorm(bn, p, x);
        }
        if (m instanceof ChannelAffine a) {
            long[] dims = broadcastDims(a.channels(), in.sample().rank());
            String mul = g.node("Mul", p + ".scale", new String[] {x, g.constant(p + ".weight", a.weight().data(), dims)});
            return g.node("Add", p + ".shift", new String[] {mul, g.constant(p + ".bias", a.bias().data(), dims)});
        }
        if (m instanceof ReLU) {
            return g.node("Relu", p, new String[] {x});
        }
        if (m instanceof Sigmoid) {
            return g.node("Sigmoid", p, new String[] {x});
        }
        if (m instanceof Tanh) {
            return g.node("Tanh", p, new String[] {x});
        }
        if (m instanceof MaxPool2d mp) {
            return g.node("MaxPool", p, new String[] {x}, GraphBuilder.ints("kernel_shape", mp.kernelSize(),
                    mp.kernelSize()), GraphBuilder.ints("strides", mp.stride(), mp.stride()));
        }
        if (m instanceof AvgPool2d ap) {
            return g.node("AveragePool", p, new String[] {x}, GraphBuilder.ints("kernel_shape", ap.kernelSize(),
                    ap.kernelSize()), GraphBuilder.ints("strides", ap.stride(), ap.stride()));
        }
        if (m instanceof GlobalAvgPool2d) {
            String pooled = g.node("GlobalAveragePool", p, new String[] {x});
            return g.node("Flatten", p + ".flatten", new String[] {pooled}, GraphBuilder.integer("axis", 1));
        }
        if (m instanceof Flatten) {
            return g.node("Flatten", p, new String[] {x}, GraphBuilder.integer("axis", 1));
        }
        throw new IllegalArgumentException("Expected a layer that ONNX export supports (Linear, Conv2d, BatchNorm,"
                + " ChannelAffine, ReLU, Sigmoid, Tanh, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Identity,"
                + " Dropout, Sequential, BasicBlock, Residual), got " + describe(path) + " of type "
                + m.getClass().getSimpleName());
    }

    private String batchNorm(BatchNorm bn, String p, String x) {
        if (!bn.options().trackRunningStats()) {
            throw new IllegalArgumentException("Expected BatchNorm with running statistics for ONNX export, got "
                    + describe(p) + " with track_running_stats=false");
        }
        int c = bn.numFeatures();
        float[] ones = new float[c];
        Arrays.fill(ones, 1f);
        String scale = g.constant(p + ".weight", bn.weight() == null ? ones : bn.weight().data(), c);
        String bias = g.constant(p + ".bias", bn.bias() == null ? new float[c] : bn.bias().data(), c);
        String mean = g.constant(p + ".running_mean", bn.runningMean().data(), c);
        String var = g.constant(p + ".running_var", bn.runningVar().data(), c);
        Double ours = bn.options().momentum();
        var eps = GraphBuilder.real("epsilon", (float) bn.options().eps());
        String[] ins = {x, scale, bias, mean, var};
        // ONNX momentum = weight of the OLD running value = 1 - (our weight of the new batch).
        return ours == null ? g.node("BatchNormalization", p, ins, eps)
                : g.node("BatchNormalization", p, ins, eps, GraphBuilder.real("momentum", (float) (1.0 - ours)));
    }

    /** {@code [C, 1, ...]} so a per-channel constant broadcasts against {@code (N, C, ...)} of this rank. */
    private static long[] broadcastDims(int c, int rank) {
        long[] d = new long[rank - 1];
        Arrays.fill(d, 1);
        d[0] = c;
        return d;
    }

    private static String join(String path, String child) {
        return path.isEmpty() ? child : path + "." + child;
    }

    private static String describe(String path) {
        return path.isEmpty() ? "the model itself" : "layer '" + path + "'";
    }
}
