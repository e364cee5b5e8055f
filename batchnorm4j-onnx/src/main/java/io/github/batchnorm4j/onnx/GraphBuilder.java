package io.github.batchnorm4j.onnx;

import com.google.protobuf.ByteString;
import io.github.batchnorm4j.onnx.proto.Onnx.AttributeProto;
import io.github.batchnorm4j.onnx.proto.Onnx.GraphProto;
import io.github.batchnorm4j.onnx.proto.Onnx.NodeProto;
import io.github.batchnorm4j.onnx.proto.Onnx.TensorProto;
import io.github.batchnorm4j.onnx.proto.Onnx.TensorShapeProto;
import io.github.batchnorm4j.onnx.proto.Onnx.TypeProto;
import io.github.batchnorm4j.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Accumulates the nodes and initializers of one ONNX graph and hands out unique value names. */
final class GraphBuilder {
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private int counter;

    /** A fresh value name derived from {@code hint} (a module path or op name). */
    String fresh(String hint) {
        String base = hint.isEmpty() ? "v" : hint.replace('.', '_');
        return base + "_" + (counter++);
    }

    /** Adds a float constant (little-endian raw data) and returns its name. */
    String constant(String hint, float[] values, long... dims) {
        String name = fresh(hint);
        ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder()
                .setName(name)
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    /** Adds a node {@code opType(inputs) -> one fresh output} and returns the output's name. */
    String node(String opType, String hint, String[] inputs, AttributeProto... attributes) {
        String out = fresh(hint);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(out + "_" + opType);
        for (String in : inputs) {
            n.addInput(in);
        }
        n.addOutput(out);
        for (AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    /** Adds a node writing to an already chosen output name. */
    void nodeTo(String opType, String output, String... inputs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(output + "_" + opType);
        for (String in : inputs) {
            n.addInput(in);
        }
        graph.addNode(n.addOutput(output));
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    /** A float tensor value description; a dimension below zero is written as the symbolic batch size "N". */
    static ValueInfoProto tensorInfo(String name, int[] dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    GraphProto.Builder graph() {
        return graph;
    }
}
