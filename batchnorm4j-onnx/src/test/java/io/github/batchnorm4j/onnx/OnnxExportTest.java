package io.github.batchnorm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.batchnorm4j.infer.Fold;
import io.github.batchnorm4j.infer.TestModels;
import io.github.batchnorm4j.nn.Linear;
import io.github.batchnorm4j.nn.Module;
import io.github.batchnorm4j.nn.ReLU;
import io.github.batchnorm4j.nn.Sequential;
import io.github.batchnorm4j.nn.norm.BatchNorm;
import io.github.batchnorm4j.nn.norm.LayerNorm;
import io.github.batchnorm4j.onnx.proto.Onnx.ModelProto;
import io.github.batchnorm4j.onnx.proto.Onnx.NodeProto;
import io.github.batchnorm4j.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Exported models run in ONNX Runtime and must reproduce our eval-mode outputs. */
class OnnxExportTest {
    private static final double TOL = 1e-5;
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    /** Runs {@code proto} in ONNX Runtime on {@code x}; returns the output as a tensor of ONNX's shape. */
    static Tensor runOrt(ModelProto proto, Tensor x) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession s = ENV.createSession(proto.toByteArray(), opts);
                 OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x.toContiguousArray()),
                         Arrays.stream(x.shape()).asLongStream().toArray());
                 OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
                OnnxTensor out = (OnnxTensor) r.get(OnnxExport.OUTPUT).orElseThrow();
                FloatBuffer fb = out.getFloatBuffer();
                float[] d = new float[fb.remaining()];
                fb.get(d);
                int[] shape = Arrays.stream(out.getInfo().getShape()).mapToInt(v -> (int) v).toArray();
                return Tensor.of(d, shape);
            }
        }
    }

    private static List<String> ops(ModelProto p) {
        return p.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    private static ModelProto checkAgainstOrt(Module model, Tensor x) throws OrtException {
        model.eval();
        Tensor ours = model.forward(x).copy();
        int[] itemShape = Arrays.copyOfRange(x.shape(), 1, x.rank());
        ModelProto proto = OnnxExport.toModel(model, itemShape, false, "test");
        Tensor theirs = runOrt(proto, x);
        assertArrayEquals(ours.shape(), theirs.shape());
        double err = TestModels.relativeError(theirs, ours);
        assertTrue(err <= TOL, "relative error vs ONNX Runtime " + err);
        return proto;
    }

    @ParameterizedTest(name = "bias={0} affine={1} fold={2}")
    @CsvSource({"true,true,false", "false,false,false", "true,true,true", "false,false,true"})
    void mlp(boolean bias, boolean affine, boolean fold) throws OrtException {
        Module m = TestModels.mlp(bias, affine, 21);
        ModelProto p = checkAgainstOrt(fold ? Fold.fold(m) : m, TestModels.input(1, 5, 6));
        assertEquals(fold ? 0 : 4, ops(p).stream().filter("BatchNormalization"::equals).count());
        assertTrue(ops(p).contains("Gemm"));
    }

    @ParameterizedTest(name = "bias={0} affine={1} fold={2}")
    @CsvSource({"true,true,false", "false,false,false", "true,false,true", "false,true,true"})
    void cnn(boolean bias, boolean affine, boolean fold) throws OrtException {
        Module m = TestModels.cnn(bias, affine, 22);
        ModelProto p = checkAgainstOrt(fold ? Fold.fold(m) : m, TestModels.input(2, 3, 3, 9, 9));
        assertEquals(fold ? 0 : 3, ops(p).stream().filter("BatchNormalization"::equals).count());
        assertTrue(ops(p).containsAll(List.of("Conv", "MaxPool", "AveragePool", "Flatten", "Sigmoid", "Relu")));
    }

    @ParameterizedTest(name = "bias={0} affine={1} fold={2}")
    @CsvSource({"false,true,false", "true,false,false", "false,true,true", "true,false,true"})
    void residual(boolean bias, boolean affine, boolean fold) throws OrtException {
        Module m = TestModels.resnet(bias, affine, 23);
        ModelProto p = checkAgainstOrt(fold ? Fold.fold(m) : m, TestModels.input(3, 2, 3, 10, 10));
        assertEquals(fold ? 0 : 6, ops(p).stream().filter("BatchNormalization"::equals).count());
        assertTrue(ops(p).containsAll(List.of("Add", "GlobalAveragePool")));
    }

    /** A BN with no foldable predecessor is exported as Mul/Add after folding; softmax is optional. */
    @Test
    void channelAffineAndSoftmax() throws OrtException {
        SplittableRandom r = new SplittableRandom(3);
        Module m = TestModels.randomizeStatistics(new Sequential(new BatchNorm(4), new Linear(4, 3, true, r)), r);
        Module folded = Fold.fold(m);
        assertEquals(List.of("Mul", "Add", "Gemm", "Identity"), ops(checkAgainstOrt(folded, TestModels.input(4, 3, 4))));
        ModelProto p = OnnxExport.toModel(folded, new int[] {4}, true, "test");
        Tensor x = TestModels.input(5, 2, 4);
        Tensor probs = runOrt(p, x);
        float[] logits = folded.forward(x).data();
        for (int i = 0; i < 2; i++) {
            double z = 0;
            for (int k = 0; k < 3; k++) {
                z += Math.exp(logits[i * 3 + k]);
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(Math.exp(logits[i * 3 + k]) / z, probs.data()[i * 3 + k], 1e-6);
            }
        }
    }

    /** The momentum attribute follows ONNX's convention: the weight of the old running value. */
    @Test
    void momentumIsConvertedToOnnxConvention() {
        Module m = new Sequential(new BatchNorm(2, TestModels.bnOptions(true).withMomentum(0.25)));
        NodeProto bn = OnnxExport.toModel(m, new int[] {2}, false, "t").getGraph().getNode(0);
        assertEquals("BatchNormalization", bn.getOpType());
        float momentum = bn.getAttributeList().stream().filter(a -> a.getName().equals("momentum")).findFirst()
                .orElseThrow().getF();
        assertEquals(0.75f, momentum);
    }

    @Test
    void unknownLayerIsNamedAndNothingIsWritten(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        Module m = new Sequential(new Linear(4, 4, true, r), new Sequential(new ReLU(), new LayerNorm(new int[] {4})));
        Path file = dir.resolve("model.onnx");
        Files.writeString(file, "previous");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExport.write(m, new int[] {4}, false, "t", file));
        assertEquals("Expected a layer that ONNX export supports (Linear, Conv2d, BatchNorm, ChannelAffine, ReLU,"
                + " Sigmoid, Tanh, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Identity, Dropout, Sequential,"
                + " BasicBlock, Residual), got layer '1.1' of type LayerNorm", e.getMessage());
        assertEquals("previous", Files.readString(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void untrackedBatchNormIsRejected() {
        Module m = new Sequential(new BatchNorm(3, TestModels.bnOptions(true).withTrackRunningStats(false)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExport.toModel(m, new int[] {3}, false, "t"));
        assertEquals("Expected BatchNorm with running statistics for ONNX export, got layer '0' with"
                + " track_running_stats=false", e.getMessage());
    }

    @Test
    void writesAFileOnnxRuntimeLoads(@TempDir Path dir) throws Exception {
        Module m = TestModels.mlp(true, true, 9);
        Path file = dir.resolve("sub/model.onnx");
        OnnxExport.write(m, new int[] {6}, false, "t", file);
        ModelProto back = ModelProto.parseFrom(Files.readAllBytes(file));
        assertEquals(OnnxExport.IR_VERSION, back.getIrVersion());
        assertEquals(OnnxExport.OPSET, back.getOpsetImport(0).getVersion());
        Tensor x = TestModels.input(8, 3, 6);
        m.eval();
        assertTrue(TestModels.relativeError(runOrt(back, x), m.forward(x)) <= TOL);
    }
}
