/** ONNX export (opset 13) of batchnorm4j models; the protobuf messages are generated from a subset of onnx.proto. */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // protobuf-java has no module descriptor, only a module name
module io.github.batchnorm4j.onnx {
    requires transitive io.github.batchnorm4j.core;
    requires transitive com.google.protobuf;

    exports io.github.batchnorm4j.onnx;
    exports io.github.batchnorm4j.onnx.proto;
}
