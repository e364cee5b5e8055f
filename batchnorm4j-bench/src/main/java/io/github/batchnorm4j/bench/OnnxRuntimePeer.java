package io.github.batchnorm4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * ONNX Runtime (its Java API, native MLAS kernels) running one ONNX model on one fixed input, as the peer of our
 * inference benchmarks: all graph optimizations on, sequential execution, {@code threads} intra-op threads, input
 * and output tensors allocated once (the output pinned), so a call is one {@code OrtSession.run} and nothing else.
 * Only this class touches {@code ai.onnxruntime} (its checked exceptions become {@link IllegalStateException}s),
 * so that the rest of the module loads and runs without it.
 */
final class OnnxRuntimePeer implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final OnnxTensor input;
    private final OnnxTensor output;
    private final FloatBuffer outputData;
    private final Map<String, OnnxTensor> inputs;
    private final Map<String, OnnxTensor> pinned;

    /**
     * @param model   the serialized ONNX model with one input and one output
     * @param x       the input, row-major, of shape {@code inShape}
     * @param outShape the output's shape for this input
     */
    OnnxRuntimePeer(byte[] model, String inName, float[] x, long[] inShape, String outName, long[] outShape,
                    int threads) {
        long outCount = 1;
        for (long d : outShape) {
            outCount *= d;
        }
        outputData = direct(Math.toIntExact(outCount));
        FloatBuffer in = direct(x.length);
        in.put(x).flip();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model, opts);
            input = OnnxTensor.createTensor(env, in, inShape);
            output = OnnxTensor.createTensor(env, outputData, outShape);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not load the model: " + e.getMessage(), e);
        }
        inputs = Map.of(inName, input);
        pinned = Map.of(outName, output);
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** One inference into the pinned output. */
    void run() {
        try (OrtSession.Result r = session.run(inputs, pinned)) {
            // the values are in the pinned output; the result only owns nothing new
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /** The output of the last {@link #run}, copied. */
    float[] output() {
        float[] d = new float[outputData.capacity()];
        outputData.duplicate().rewind().get(d);
        return d;
    }

    /** ONNX Runtime's version, as its native library reports it. */
    String version() {
        return env.getVersion();
    }

    @Override
    public void close() {
        input.close();
        output.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed to close its session: " + e.getMessage(), e);
        }
    }
}
