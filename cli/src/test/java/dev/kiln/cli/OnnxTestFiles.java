package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny ONNX files written by the tests themselves (opset 13, one 3x3 convolution with padding 1
 * and fixed weights), and the convolution computed with plain loops to check what Kiln computes.
 */
final class OnnxTestFiles {
    static final int OPSET = 13;
    static final long IR_VERSION = 8;
    static final String PRODUCER = "kiln-cli-tests";
    /** Output channels of every convolution here. */
    static final int FEATURES = 3;

    private OnnxTestFiles() {
    }

    /**
     * {@code image} [N, channels, height, width] (a size of -1 is symbolic) → Conv → Relu →
     * {@code features} [N, 3, height, width]; 27 * channels + 3 parameters.
     */
    static Path convRelu(Path file, int channels, int height, int width) throws IOException {
        GraphProto graph = GraphProto.newBuilder()
                .setName("conv_relu")
                .addInput(value("image", -1, channels, height, width))
                .addOutput(value("features", -1, FEATURES, height, width))
                .addAllInitializer(convWeights(channels))
                .addNode(conv("image", "conv"))
                .addNode(node("Relu", List.of("conv"), "features"))
                .build();
        return write(file, graph);
    }

    /**
     * Two inputs, {@code a} [N, 2, 4, 4] and {@code b} [N, 3, 4, 4], and two outputs:
     * {@code sum} = Conv(a) + b and {@code act/relu:0} = Relu(sum), a name no file may have.
     */
    static Path convPlusSkip(Path file) throws IOException {
        GraphProto graph = GraphProto.newBuilder()
                .setName("conv_plus_skip")
                .addInput(value("a", -1, 2, 4, 4))
                .addInput(value("b", -1, FEATURES, 4, 4))
                .addOutput(value("sum", -1, FEATURES, 4, 4))
                .addOutput(value("act/relu:0", -1, FEATURES, 4, 4))
                .addAllInitializer(convWeights(2))
                .addNode(conv("a", "conv"))
                .addNode(node("Add", List.of("conv", "b"), "sum"))
                .addNode(node("Relu", List.of("sum"), "act/relu:0"))
                .build();
        return write(file, graph);
    }

    /** One node, nothing to fuse: {@code x} [N, 3, 4, 4] → Relu → {@code y}. */
    static Path singleRelu(Path file) throws IOException {
        GraphProto graph = GraphProto.newBuilder()
                .setName("single_relu")
                .addInput(value("x", -1, FEATURES, 4, 4))
                .addOutput(value("y", -1, FEATURES, 4, 4))
                .addNode(node("Relu", List.of("x"), "y"))
                .build();
        return write(file, graph);
    }

    /** Conv then Celu, an op Kiln does not run: {@code x} [1, 2, 4, 4] → {@code y}. */
    static Path withUnsupportedOp(Path file) throws IOException {
        GraphProto graph = GraphProto.newBuilder()
                .setName("conv_celu")
                .addInput(value("x", 1, 2, 4, 4))
                .addOutput(value("y", 1, FEATURES, 4, 4))
                .addAllInitializer(convWeights(2))
                .addNode(conv("x", "conv"))
                .addNode(node("Celu", List.of("conv"), "y"))
                .build();
        return write(file, graph);
    }

    /**
     * A residual around a node cpu-simd does not run: {@code x} [1, 3, 4, 4] → Conv → {@code a};
     * Conv → {@code b}; LRN → {@code c}; {@code y} = c + a.
     */
    static Path residualAroundLrn(Path file) throws IOException {
        GraphProto graph = GraphProto.newBuilder()
                .setName("residual_around_lrn")
                .addInput(value("x", 1, FEATURES, 4, 4))
                .addOutput(value("y", 1, FEATURES, 4, 4))
                .addAllInitializer(convWeights(FEATURES))
                .addNode(conv("x", "a").toBuilder().setName("conv1"))
                .addNode(conv("a", "b").toBuilder().setName("conv2"))
                .addNode(node("LRN", List.of("b"), "c").toBuilder()
                        .addAttribute(AttributeProto.newBuilder().setName("size").setI(3)
                                .setType(AttributeProto.AttributeType.INT)))
                .addNode(node("Add", List.of("c", "a"), "y"))
                .build();
        return write(file, graph);
    }

    /** The convolution's weight [3, channels, 3, 3]: small values, all different. */
    static float[] weight(int channels) {
        float[] w = new float[FEATURES * channels * 9];
        for (int i = 0; i < w.length; i++) {
            w[i] = ((i * 7) % 13 - 6) / 10f;
        }
        return w;
    }

    static float[] bias() {
        return new float[]{0.5f, -0.25f, 0.125f};
    }

    /** What the convolution computes on x [n, channels, h, w], in plain loops: 3x3, stride 1, padding 1. */
    static float[] conv(float[] x, Shape shape) {
        int n = shape.dim(0);
        int channels = shape.dim(1);
        int h = shape.dim(2);
        int w = shape.dim(3);
        float[] weight = weight(channels);
        float[] bias = bias();
        float[] y = new float[n * FEATURES * h * w];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < FEATURES; o++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        double sum = bias[o];
                        for (int c = 0; c < channels; c++) {
                            for (int ki = 0; ki < 3; ki++) {
                                for (int kj = 0; kj < 3; kj++) {
                                    int yi = i + ki - 1;
                                    int xj = j + kj - 1;
                                    if (yi >= 0 && yi < h && xj >= 0 && xj < w) {
                                        sum += weight[((o * channels + c) * 3 + ki) * 3 + kj]
                                                * x[((b * channels + c) * h + yi) * w + xj];
                                    }
                                }
                            }
                        }
                        y[((b * FEATURES + o) * h + i) * w + j] = (float) sum;
                    }
                }
            }
        }
        return y;
    }

    private static List<TensorProto> convWeights(int channels) {
        return List.of(floats("conv.weight", weight(channels), FEATURES, channels, 3, 3),
                floats("conv.bias", bias(), FEATURES));
    }

    private static NodeProto conv(String input, String output) {
        return NodeProto.newBuilder()
                .setOpType("Conv").setName("conv")
                .addInput(input).addInput("conv.weight").addInput("conv.bias")
                .addOutput(output)
                .addAttribute(ints("kernel_shape", 3, 3))
                .addAttribute(ints("pads", 1, 1, 1, 1))
                .build();
    }

    private static NodeProto node(String op, List<String> inputs, String output) {
        return NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase(java.util.Locale.ROOT)).addAllInput(inputs).addOutput(output)
                .build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static TensorProto floats(String name, float[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT.getNumber());
        for (long d : dims) {
            t.addDims(d);
        }
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    /** {@code x} → Relu → {@code y}, with {@code x}'s dimensions written as literal values, negative ones too. */
    static Path reluWithLiteralDims(Path file, long... dims) throws IOException {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        ValueInfoProto x = ValueInfoProto.newBuilder().setName("x")
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape)))
                .build();
        GraphProto graph = GraphProto.newBuilder()
                .setName("relu")
                .addInput(x)
                .addOutput(ValueInfoProto.newBuilder().setName("y"))
                .addNode(node("Relu", List.of("x"), "y"))
                .build();
        return write(file, graph);
    }

    /** A float tensor value; -1 is a symbolic dimension (the first one is called N). */
    private static ValueInfoProto value(String name, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        List<String> symbols = new ArrayList<>(List.of("N", "H", "W", "D"));
        for (int d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d < 0) {
                dim.setDimParam(symbols.removeFirst());
            } else {
                dim.setDimValue(d);
            }
            shape.addDim(dim);
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape)))
                .build();
    }

    private static Path write(Path file, GraphProto graph) throws IOException {
        ModelProto model = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName(PRODUCER)
                .setProducerVersion("1.0")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build();
        Files.write(file, model.toByteArray());
        return file;
    }
}
