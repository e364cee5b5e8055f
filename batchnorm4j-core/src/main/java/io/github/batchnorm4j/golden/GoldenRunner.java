package io.github.batchnorm4j.golden;

import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.Parameter;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.GroupNorm;
import io.github.batchnorm4j.nn.norm.InstanceNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import io.github.batchnorm4j.nn.norm.NormOptions;
import io.github.batchnorm4j.tensor.MemoryFormat;
import io.github.batchnorm4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link GoldenCase} through the library's modules and compares every expected tensor.
 *
 * <p>The module ({@code BatchNorm}, {@code LayerNorm}, {@code GroupNorm} or {@code InstanceNorm}) is built from
 * the case's options, loaded with its weight, bias, running statistics and {@code num_batches_tracked}, put in
 * training or eval mode, then run forward on {@code x} and backward with {@code grad_y}; for a channels-last case
 * both are converted to channels-last first so the NHWC path runs; a masked case passes its {@code mask}. Pass
 * criterion per expected tensor E and actual A: {@code max|A - E| <= f * max(1, max|E|)} with {@code f = 1e-5} for
 * {@code y} and running statistics and {@code f = 1e-4} for gradients.
 */
public final class GoldenRunner {
    /** Tolerance factor for outputs and running statistics. */
    public static final double VALUE_TOLERANCE = 1e-5;
    /** Tolerance factor for gradients (a reduction over the batch deeper than the forward). */
    public static final double GRADIENT_TOLERANCE = 1e-4;

    private GoldenRunner() {}

    /** Runs {@code c}; an exception thrown by the implementation becomes a failed result naming it. */
    public static GoldenResult run(GoldenCase c) {
        Map<String, float[]> actual;
        try {
            actual = compute(c);
        } catch (RuntimeException e) {
            return new GoldenResult(c.name(), List.of(), e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        List<GoldenResult.Check> checks = new ArrayList<>();
        for (String name : GoldenCase.EXPECTED) {
            Tensor expected = c.tensor(name);
            if (expected != null) {
                checks.add(compare(name, expected.data(), actual.get(name)));
            }
        }
        return new GoldenResult(c.name(), checks, null);
    }

    /** The tolerance factor for an expected tensor: gradients get {@link #GRADIENT_TOLERANCE}. */
    public static double toleranceFactor(String tensor) {
        return tensor.startsWith("grad_") ? GRADIENT_TOLERANCE : VALUE_TOLERANCE;
    }

    /** max|A - E| against {@code factor * max(1, max|E|)}; a NaN difference counts as an infinite error. */
    static GoldenResult.Check compare(String name, float[] expected, float[] actual) {
        double maxAbs = 0;
        double maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs((double) expected[i]));
            double d = Math.abs((double) actual[i] - expected[i]);
            maxErr = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(maxErr, d);
        }
        return new GoldenResult.Check(name, maxErr, toleranceFactor(name) * Math.max(1.0, maxAbs));
    }

    /** Forward and backward through the module; returns each expected quantity in logical (contiguous) order. */
    private static Map<String, float[]> compute(GoldenCase c) {
        Tensor x0 = c.tensor("x");
        Module m = build(c, x0.rank() > 1 ? x0.dim(1) : 1); // LayerNorm ignores the channel count
        load(c, m);
        m.train(c.training());
        Tensor x = x0.copy().to(c.memoryFormat());
        Tensor gy = c.tensor("grad_y").copy().to(c.memoryFormat());
        Tensor mask = c.tensor("mask");
        Tensor y = mask == null ? m.forward(x) : switch (m) {
            case BatchNorm bn -> bn.forward(x, mask.copy());
            case InstanceNorm in -> in.forward(x, mask.copy());
            case GroupNorm gn -> gn.forward(x, mask.copy());
            case LayerNorm ln -> ln.forward(x, mask.copy());
            default -> throw new IllegalStateException("no masked forward for " + m.getClass().getSimpleName());
        };
        Tensor gx = m.backward(gy);
        Map<String, float[]> out = new LinkedHashMap<>();
        out.put("y", y.toContiguousArray());
        out.put("grad_x", gx.toContiguousArray());
        Parameter w = m.namedParameters().get("weight");
        Parameter b = m.namedParameters().get("bias");
        if (w != null) {
            out.put("grad_weight", w.grad().data().clone());
            out.put("grad_bias", b.grad().data().clone());
        }
        Tensor rm = m.namedBuffers().get("running_mean");
        if (rm != null) {
            out.put("running_mean_after", rm.data().clone());
            out.put("running_var_after", m.namedBuffers().get("running_var").data().clone());
        }
        return out;
    }

    private static Module build(GoldenCase c, int channels) {
        return switch (c.op()) {
            case BATCH_NORM -> new BatchNorm(channels, options(c));
            case INSTANCE_NORM -> new InstanceNorm(channels, options(c));
            case GROUP_NORM -> new GroupNorm(c.numGroups(), channels, c.eps(), c.affine());
            case LAYER_NORM -> new LayerNorm(c.normalizedShape(), c.eps(), c.affine());
        };
    }

    private static NormOptions options(GoldenCase c) {
        return new NormOptions(c.eps(), c.momentum(), c.affine(), c.trackRunningStats());
    }

    /** Copies the case's parameters and state into the module's (PyTorch-named) parameters and buffers. */
    private static void load(GoldenCase c, Module m) {
        for (Map.Entry<String, Parameter> p : m.namedParameters().entrySet()) {
            copy(c, p.getKey(), p.getValue().data());
        }
        for (Map.Entry<String, Tensor> b : m.namedBuffers().entrySet()) {
            copy(c, b.getKey(), b.getValue().data());
        }
        if (m.namedLongBuffers().containsKey("num_batches_tracked")) {
            m.namedLongBuffers().get("num_batches_tracked").set(c.numBatchesTracked());
        }
    }

    private static void copy(GoldenCase c, String name, float[] dst) {
        Tensor src = c.tensor(name);
        if (src == null || src.numel() != dst.length) {
            // GoldenCase validated the tensor set against the same options, so this is a bug here, not bad input.
            throw new IllegalStateException("Expected tensor '" + name + "' of " + dst.length + " values in case "
                    + c.name() + ", got " + (src == null ? "none" : src.numel() + " values"));
        }
        System.arraycopy(src.data(), 0, dst, 0, dst.length);
    }
}
