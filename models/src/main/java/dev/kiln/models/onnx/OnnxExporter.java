package dev.kiln.models.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.OpaqueOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.graph.ops.Window;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes a Kiln graph as a standard ONNX model (opset {@value #OPSET}) that ONNX Runtime or any
 * other engine loads. Kiln's fused forms are written back as the standard ops they stand for:
 * a convolution's or Gemm's post-ops as activation and Add nodes after it, squeeze-excitation as
 * GlobalAveragePool, Conv, activation, Conv, activation, Mul; SiLU (not an ONNX op) as Sigmoid
 * and Mul; Clip with its bounds as inputs (opset 11 and later). Weights go into the file as
 * little-endian {@code raw_data}; a symbolic dimension becomes the dimension parameter {@code N}.
 * Nodes added by an expansion are named after the Kiln node ({@code name/activation0}), and the
 * last one writes the Kiln node's output, so values keep their names.
 */
public final class OnnxExporter {
    /** The opset written: 17, which every current runtime reads and which has HardSwish and Clip inputs. */
    public static final int OPSET = 17;
    /** ONNX IR version 8, the one opset 17 came with. */
    public static final int IR_VERSION = 8;

    private final GraphProto.Builder out = GraphProto.newBuilder();
    private final Map<String, Shape> shapes;
    /** The shapes at batch 2, to tell which dimensions of a provided op's outputs are the batch. */
    private final Map<String, Shape> shapesAtTwo;
    /** The domains of provided ops written, each imported at version 1. */
    private final TreeSet<String> domains = new TreeSet<>();

    private OnnxExporter(Graph graph) {
        boolean fixed = graph.hasFixedShapesBesidesBatch();
        this.shapes = fixed ? graph.inferShapes(graph.inputShapesForBatch(1)) : Map.of();
        this.shapesAtTwo = fixed ? graph.inferShapes(graph.inputShapesForBatch(2)) : Map.of();
    }

    /** Writes {@code graph} to {@code file}. */
    public static void write(Graph graph, Path file) throws IOException {
        ModelProto model = toModel(graph);
        try (OutputStream os = Files.newOutputStream(file)) {
            model.writeTo(os);
        }
    }

    /**
     * The ONNX model of {@code graph}.
     *
     * @throws UnsupportedOperationException naming the node when an op has no standard form at this opset
     */
    public static ModelProto toModel(Graph graph) {
        OnnxExporter e = new OnnxExporter(graph);
        e.out.setName(graph.name());
        for (ValueInfo v : graph.inputs()) {
            e.out.addInput(valueInfo(v.name(), v.shape()));
        }
        graph.initializers().forEach((name, t) -> e.out.addInitializer(floats(name, t)));
        for (Node n : graph.nodes()) {
            e.node(n);
        }
        for (String o : graph.outputs()) {
            e.out.addOutput(ValueInfoProto.newBuilder().setName(o).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE))));
        }
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("kiln")
                .setProducerVersion("0.1").addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        e.domains.forEach(d -> model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(d).setVersion(1)));
        return model.setGraph(e.out).build();
    }

    private void node(Node n) {
        String y = n.output();
        switch (n.op()) {
            case Conv conv -> {
                String raw = conv.postOps().isEmpty() ? y : y + "/conv";
                emit(n.name(), "Conv", trimmed(n.inputs().subList(0, Math.min(3, n.inputs().size()))), List.of(raw),
                        window(conv.window(), true), attr("group", conv.groups()));
                postOps(n, conv.postOps(), raw, y, n.inputs().size() > 3 ? n.input(3) : "");
            }
            case Gemm gemm -> {
                String raw = gemm.postOps().isEmpty() ? y : y + "/gemm";
                emit(n.name(), "Gemm", trimmed(n.inputs()), List.of(raw), List.of(attr("alpha", gemm.alpha()),
                        attr("beta", gemm.beta()), attr("transA", gemm.transA() ? 1 : 0),
                        attr("transB", gemm.transB() ? 1 : 0)));
                postOps(n, gemm.postOps(), raw, y, "");
            }
            case Activation a -> activation(n.name(), a.function(), n.input(0), y);
            case Binary b -> emit(n.name(), b.type(), n.inputs(), n.outputs());
            case BatchNormalization bn -> emit(n.name(), "BatchNormalization", n.inputs(), n.outputs(),
                    attr("epsilon", bn.epsilon()));
            case Concat c -> emit(n.name(), "Concat", n.inputs(), n.outputs(), attr("axis", c.axis()));
            case MaxPool p -> emit(n.name(), "MaxPool", n.inputs(), n.outputs(), window(p.window(), true),
                    attr("ceil_mode", p.ceilMode() ? 1 : 0));
            case AveragePool p -> {
                if (p.window().dilationH() != 1 || p.window().dilationW() != 1) {
                    throw unsupported(n, "a dilated average pool has no ONNX form before opset 19");
                }
                emit(n.name(), "AveragePool", n.inputs(), n.outputs(), window(p.window(), false),
                        attr("ceil_mode", p.ceilMode() ? 1 : 0), attr("count_include_pad", p.countIncludePad() ? 1 : 0));
            }
            case GlobalPool g -> emit(n.name(), g.kind() == GlobalPool.Kind.AVERAGE ? "GlobalAveragePool"
                    : "GlobalMaxPool", n.inputs(), n.outputs());
            case MatMul m -> emit(n.name(), "MatMul", n.inputs(), n.outputs());
            case Flatten f -> emit(n.name(), "Flatten", n.inputs(), n.outputs(), attr("axis", f.axis()));
            case Reshape r -> {
                String target = int64s(n.name() + "/shape", toLongs(r.target()));
                List<AttributeProto> attrs = r.allowZero() ? List.of(attr("allowzero", 1)) : List.of();
                emit(n.name(), "Reshape", List.of(n.input(0), target), n.outputs(), attrs);
            }
            case Softmax s -> softmax(n, s);
            case Passthrough p -> emit(n.name(), p.type(), trimmed(n.inputs()), trimmed(n.outputs()));
            case Lrn l -> emit(n.name(), "LRN", n.inputs(), n.outputs(), attr("size", l.size()),
                    attr("alpha", l.alpha()), attr("beta", l.beta()), attr("bias", l.bias()));
            case Pad p -> {
                String pads = int64s(n.name() + "/pads", toLongs(p.pads()));
                String value = scalar(n.name() + "/value", p.value());
                emit(n.name(), "Pad", List.of(n.input(0), pads, value), n.outputs(), attr("mode", "constant"));
            }
            case Transpose t -> emit(n.name(), "Transpose", n.inputs(), n.outputs(),
                    t.perm().length == 0 ? List.of() : List.of(ints("perm", toLongs(t.perm()))));
            case SqueezeExcitation se -> squeezeExcitation(n, se);
            case ProvidedOp p -> provided(n, p);
        }
    }

    /**
     * A plugin's op (or an opaque one) with its domain, op type and attributes, and the shapes of
     * its outputs in {@code value_info}: where no provider knows the op on reading, they are what
     * lets it import as an opaque node again.
     */
    private void provided(Node n, ProvidedOp p) {
        if (!p.domain().isEmpty()) {
            domains.add(p.domain());
        }
        out.addNode(NodeProto.newBuilder().setName(n.name()).setOpType(p.name()).setDomain(p.domain())
                .addAllInput(trimmed(n.inputs())).addAllOutput(n.outputs())
                .addAllAttribute(OnnxAttributeView.write(p.attributes())));
        for (int i = 0; i < n.outputs().size(); i++) {
            String v = n.outputs().get(i);
            Shape shape = declaredShape(p, i, v);
            if (!v.isEmpty() && shape != null) {
                out.addValueInfo(valueInfo(v, shape));
            }
        }
    }

    /** An output's shape with the batch-dependent dimensions symbolic; an opaque op's as declared; null when open. */
    private Shape declaredShape(ProvidedOp p, int output, String value) {
        if (p.provider() instanceof OpaqueOp o) {
            return o.outputs().get(output);
        }
        Shape one = shapes.get(value);
        Shape two = shapesAtTwo.get(value);
        if (one == null || two == null || one.rank() != two.rank()) {
            return one;
        }
        int[] dims = one.dims();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != two.dim(i)) {
                dims[i] = Shape.DYNAMIC;
            }
        }
        return Shape.of(dims);
    }

    /** A fused epilogue as nodes after the producer, in order; the last writes {@code y}. */
    private void postOps(Node n, List<PostOp> ops, String raw, String y, String residual) {
        String current = raw;
        for (int i = 0; i < ops.size(); i++) {
            String next = i == ops.size() - 1 ? y : y + "/post" + i;
            switch (ops.get(i)) {
                case PostOp.Activate a -> activation(n.name() + "/activation" + i, a.function(), current, next);
                case PostOp.AddResidual r -> {
                    if (residual.isEmpty()) {
                        throw unsupported(n, "a residual add without a residual input");
                    }
                    emit(n.name() + "/add" + i, "Add", List.of(current, residual), List.of(next));
                }
            }
            current = next;
        }
    }

    private void activation(String name, ActivationFunction f, String x, String y) {
        switch (f.kind()) {
            case RELU, SIGMOID, TANH, HARD_SWISH -> emit(name, f.kind().opType(), List.of(x), List.of(y));
            case LEAKY_RELU -> emit(name, "LeakyRelu", List.of(x), List.of(y), attr("alpha", f.alpha()));
            case HARD_SIGMOID -> emit(name, "HardSigmoid", List.of(x), List.of(y), attr("alpha", f.alpha()),
                    attr("beta", f.beta()));
            case CLIP -> emit(name, "Clip", List.of(x, scalar(name + "/min", f.alpha()),
                    scalar(name + "/max", f.beta())), List.of(y));
            case SILU -> {
                String gate = name + "/sigmoid";
                emit(name + "/sigmoid", "Sigmoid", List.of(x), List.of(gate));
                emit(name, "Mul", List.of(x, gate), List.of(y));
            }
        }
    }

    /** Opset 13 softmax is over one axis; the older form over the flattened trailing axes is flattened first. */
    private void softmax(Node n, Softmax s) {
        Shape x = shapes.get(n.input(0));
        int rank = x == null ? -1 : x.rank();
        boolean lastAxis = rank > 0 && Math.floorMod(s.axis(), rank) == rank - 1;
        if (!s.coerceTo2d() || lastAxis) {
            emit(n.name(), "Softmax", n.inputs(), n.outputs(), attr("axis", s.axis()));
            return;
        }
        if (x == null) {
            throw unsupported(n, "softmax over flattened axes needs the input's shape, which is open here");
        }
        String flat = n.output() + "/flat";
        String soft = n.output() + "/softmax";
        emit(n.name() + "/flatten", "Flatten", n.inputs(), List.of(flat), attr("axis", s.axis()));
        emit(n.name(), "Softmax", List.of(flat), List.of(soft), attr("axis", -1));
        long[] target = toLongs(x.dims());
        target[0] = -1;
        emit(n.name() + "/reshape", "Reshape", List.of(soft, int64s(n.name() + "/shape", target)), n.outputs());
    }

    private void squeezeExcitation(Node n, SqueezeExcitation se) {
        String x = n.input(0);
        String base = n.output();
        String pooled = base + "/pool";
        emit(n.name() + "/pool", "GlobalAveragePool", List.of(x), List.of(pooled));
        String squeezed = base + "/squeeze";
        emit(n.name() + "/squeeze", "Conv", trimmed(List.of(pooled, n.input(1), n.inputs().size() > 3 ? n.input(3) : "")),
                List.of(squeezed));
        String squeezeAct = base + "/squeeze_activation";
        activation(n.name() + "/squeeze_activation", se.squeezeActivation(), squeezed, squeezeAct);
        String excited = base + "/excite";
        emit(n.name() + "/excite", "Conv", trimmed(List.of(squeezeAct, n.input(2),
                n.inputs().size() > 4 ? n.input(4) : "")), List.of(excited));
        String gate = base + "/gate";
        activation(n.name() + "/gate", se.gateActivation(), excited, gate);
        emit(n.name(), "Mul", List.of(x, gate), n.outputs());
    }

    private static List<AttributeProto> window(Window w, boolean dilations) {
        List<AttributeProto> a = new ArrayList<>();
        a.add(ints("kernel_shape", w.kernelH(), w.kernelW()));
        a.add(ints("strides", w.strideH(), w.strideW()));
        if (dilations) {
            a.add(ints("dilations", w.dilationH(), w.dilationW()));
        }
        if (w.padding() == Window.AutoPad.EXPLICIT) {
            a.add(ints("pads", w.padTop(), w.padLeft(), w.padBottom(), w.padRight()));
        } else {
            a.add(attr("auto_pad", w.padding().name()));
        }
        return a;
    }

    private void emit(String name, String opType, List<String> inputs, List<String> outputs,
                      List<AttributeProto> attributes) {
        out.addNode(NodeProto.newBuilder().setName(name).setOpType(opType).addAllInput(inputs)
                .addAllOutput(outputs).addAllAttribute(attributes));
    }

    private void emit(String name, String opType, List<String> inputs, List<String> outputs,
                      AttributeProto... attributes) {
        emit(name, opType, inputs, outputs, List.of(attributes));
    }

    private void emit(String name, String opType, List<String> inputs, List<String> outputs,
                      List<AttributeProto> first, AttributeProto... more) {
        List<AttributeProto> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        emit(name, opType, inputs, outputs, all);
    }

    /** The inputs without trailing absent ones (ONNX drops them; an absent one in between stays ""). */
    private static List<String> trimmed(List<String> inputs) {
        int end = inputs.size();
        while (end > 0 && inputs.get(end - 1).isEmpty()) {
            end--;
        }
        return inputs.subList(0, end);
    }

    private String int64s(String name, long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        out.addInitializer(TensorProto.newBuilder().setName(name).setDataType(DataType.INT64_VALUE)
                .addDims(values.length).setRawData(ByteString.copyFrom(b.array())));
        return name;
    }

    private String scalar(String name, float value) {
        ByteBuffer b = ByteBuffer.allocate(Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
        out.addInitializer(TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(b.array())));
        return name;
    }

    private static TensorProto floats(String name, Tensor t) {
        long bytes = t.elementCount() * Float.BYTES;
        ByteBuffer data = t.segment().asSlice(0, bytes).asByteBuffer();
        ByteString raw;
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            raw = ByteString.copyFrom(data);
        } else {
            ByteBuffer le = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < t.elementCount(); i++) {
                le.putFloat(t.get(i));
            }
            raw = ByteString.copyFrom(le.flip());
        }
        TensorProto.Builder p = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE).setRawData(raw);
        for (int d : t.shape().dims()) {
            p.addDims(d);
        }
        return p.build();
    }

    private static ValueInfoProto valueInfo(String name, Shape shape) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (int d : shape.dims()) {
            s.addDim(d == Shape.DYNAMIC ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE).setShape(s))).build();
    }

    private static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    private static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value).build();
    }

    private static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static long[] toLongs(int[] values) {
        long[] l = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            l[i] = values[i];
        }
        return l;
    }

    private static UnsupportedOperationException unsupported(Node n, String why) {
        return new UnsupportedOperationException("cannot export " + n.describe() + " to ONNX opset " + OPSET + ": "
                + why);
    }
}
