package dev.kiln.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto.AttributeType;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes a new model file from a seed, with a seeded {@link Random} so that a run is reproducible.
 * Most mutations understand ONNX (attribute values at the edges of their ranges, declared dims,
 * opsets, node inputs and outputs rewired, op types swapped, nodes dropped or repeated, graph
 * outputs changed, initializer dims that disagree with their data); the rest flip, insert or cut
 * bytes of the encoded file, which reaches the protobuf parser and the checks on raw data.
 */
final class ModelMutator {
    /** Values at the edges: zero, signs, powers of two around the int range, the long extremes. */
    static final long[] INTERESTING = {0, 1, -1, 2, 3, 4, 7, 16, 255, 65_536, 1L << 30, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 1L << 31, 1L << 32, -(1L << 31) - 1, Long.MAX_VALUE, Long.MIN_VALUE};
    private static final String[] OP_TYPES = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Relu",
            "Sigmoid", "Clip", "Add", "Mul", "Reshape", "Squeeze", "Unsqueeze", "Shape", "Gather", "Concat",
            "Flatten", "Gemm", "MatMul", "Softmax", "BatchNormalization", "Pad", "Identity", "Constant", "Cast"};
    private static final String[] ATTRIBUTES = {"strides", "pads", "dilations", "kernel_shape", "group", "axis",
            "axes", "auto_pad", "ceil_mode", "transA", "transB", "allowzero", "to", "mode", "start", "end"};
    private static final String[] AUTO_PADS = {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET", "BOGUS"};

    private final Random random;

    ModelMutator(long seed) {
        this.random = new Random(seed);
    }

    byte[] mutate(byte[] seed) {
        if (random.nextInt(4) == 0) {
            return mutateBytes(seed);
        }
        ModelProto model;
        try {
            model = ModelProto.parseFrom(seed);
        } catch (InvalidProtocolBufferException e) {
            return mutateBytes(seed);
        }
        ModelProto.Builder b = model.toBuilder();
        int steps = 1 + random.nextInt(3);
        for (int i = 0; i < steps; i++) {
            mutateModel(b);
        }
        return b.build().toByteArray();
    }

    private long interesting() {
        return random.nextInt(3) == 0 ? random.nextInt(9) - 1 : INTERESTING[random.nextInt(INTERESTING.length)];
    }

    private void mutateModel(ModelProto.Builder m) {
        GraphProto.Builder g = m.getGraphBuilder();
        switch (random.nextInt(11)) {
            case 0 -> mutateAttribute(g);
            case 1 -> mutateDeclaredDims(g);
            case 2 -> rewireInput(g);
            case 3 -> rewireOutput(g);
            case 4 -> {
                if (g.getNodeCount() > 0) {
                    g.getNodeBuilder(random.nextInt(g.getNodeCount())).setOpType(OP_TYPES[random.nextInt(OP_TYPES.length)]);
                }
            }
            case 5 -> {
                if (g.getNodeCount() > 0) {
                    int i = random.nextInt(g.getNodeCount());
                    if (random.nextBoolean()) {
                        g.removeNode(i);
                    } else {
                        g.addNode(g.getNode(i));
                    }
                }
            }
            case 6 -> mutateGraphOutputs(g);
            case 7 -> {
                if (m.getOpsetImportCount() > 0) {
                    m.getOpsetImportBuilder(0).setVersion(random.nextBoolean() ? interesting() : 1 + random.nextInt(20));
                }
            }
            case 8 -> mutateInitializer(g);
            case 9 -> m.setIrVersion(interesting());
            default -> {
                if (g.getInputCount() > 0 && random.nextBoolean()) {
                    g.addInput(g.getInput(random.nextInt(g.getInputCount())));
                } else if (g.getInputCount() > 0) {
                    g.removeInput(random.nextInt(g.getInputCount()));
                }
            }
        }
    }

    private void mutateAttribute(GraphProto.Builder g) {
        if (g.getNodeCount() == 0) {
            return;
        }
        NodeProto.Builder n = g.getNodeBuilder(random.nextInt(g.getNodeCount()));
        if (n.getAttributeCount() > 0 && random.nextInt(3) > 0) {
            AttributeProto.Builder a = n.getAttributeBuilder(random.nextInt(n.getAttributeCount()));
            if (a.getIntsCount() > 0) {
                a.setInts(random.nextInt(a.getIntsCount()), interesting());
                if (random.nextInt(4) == 0) {
                    a.addInts(interesting());
                }
            } else if (a.hasI()) {
                a.setI(interesting());
            } else if (a.hasS()) {
                a.setS(ByteString.copyFromUtf8(AUTO_PADS[random.nextInt(AUTO_PADS.length)]));
            } else if (a.hasF()) {
                a.setF(random.nextBoolean() ? Float.NaN : (float) interesting());
            }
            return;
        }
        String name = ATTRIBUTES[random.nextInt(ATTRIBUTES.length)];
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
        switch (name) {
            case "auto_pad" -> a.setType(AttributeType.STRING)
                    .setS(ByteString.copyFromUtf8(AUTO_PADS[random.nextInt(AUTO_PADS.length)]));
            case "strides", "pads", "dilations", "kernel_shape", "axes" -> {
                a.setType(AttributeType.INTS);
                int count = name.equals("pads") ? 4 : 2;
                for (int i = 0; i < count; i++) {
                    a.addInts(interesting());
                }
            }
            default -> a.setType(AttributeType.INT).setI(interesting());
        }
        n.addAttribute(a);
    }

    private void mutateDeclaredDims(GraphProto.Builder g) {
        List<ValueInfoProto.Builder> values = new ArrayList<>();
        for (int i = 0; i < g.getInputCount(); i++) {
            values.add(g.getInputBuilder(i));
        }
        for (int i = 0; i < g.getOutputCount(); i++) {
            values.add(g.getOutputBuilder(i));
        }
        if (values.isEmpty()) {
            return;
        }
        ValueInfoProto.Builder v = values.get(random.nextInt(values.size()));
        TensorShapeProto.Builder shape = v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
        if (shape.getDimCount() == 0 || random.nextInt(5) == 0) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(interesting()));
            return;
        }
        TensorShapeProto.Dimension.Builder d = shape.getDimBuilder(random.nextInt(shape.getDimCount()));
        if (random.nextInt(4) == 0) {
            d.setDimParam("N");
        } else {
            d.setDimValue(random.nextBoolean() ? interesting() : 1 + random.nextInt(64));
        }
    }

    /** A name some value of the graph has (or, now and then, none has). */
    private String someValue(GraphProto.Builder g) {
        List<String> names = new ArrayList<>();
        g.getInputList().forEach(v -> names.add(v.getName()));
        g.getInitializerList().forEach(t -> names.add(t.getName()));
        g.getNodeList().forEach(n -> names.addAll(n.getOutputList()));
        if (names.isEmpty() || random.nextInt(8) == 0) {
            return random.nextBoolean() ? "" : "undefined_" + random.nextInt(4);
        }
        return names.get(random.nextInt(names.size()));
    }

    private void rewireInput(GraphProto.Builder g) {
        if (g.getNodeCount() == 0) {
            return;
        }
        NodeProto.Builder n = g.getNodeBuilder(random.nextInt(g.getNodeCount()));
        int choice = random.nextInt(3);
        if (choice == 0 || n.getInputCount() == 0) {
            n.addInput(someValue(g));
        } else if (choice == 1) {
            n.setInput(random.nextInt(n.getInputCount()), someValue(g));
        } else {
            List<String> inputs = new ArrayList<>(n.getInputList());
            inputs.remove(random.nextInt(inputs.size()));
            n.clearInput().addAllInput(inputs);
        }
    }

    private void rewireOutput(GraphProto.Builder g) {
        if (g.getNodeCount() == 0) {
            return;
        }
        NodeProto.Builder n = g.getNodeBuilder(random.nextInt(g.getNodeCount()));
        if (n.getOutputCount() == 0 || random.nextInt(3) == 0) {
            n.addOutput(someValue(g));
        } else {
            n.setOutput(random.nextInt(n.getOutputCount()), someValue(g));
        }
    }

    private void mutateGraphOutputs(GraphProto.Builder g) {
        int choice = random.nextInt(4);
        if (choice == 0 && g.getOutputCount() > 0) {
            g.addOutput(g.getOutput(random.nextInt(g.getOutputCount()))); // listed twice
        } else if (choice == 1 && g.getOutputCount() > 0) {
            g.removeOutput(random.nextInt(g.getOutputCount()));
        } else {
            g.addOutput(ValueInfoProto.newBuilder().setName(someValue(g)));
        }
    }

    private void mutateInitializer(GraphProto.Builder g) {
        if (g.getInitializerCount() == 0) {
            return;
        }
        TensorProto.Builder t = g.getInitializerBuilder(random.nextInt(g.getInitializerCount()));
        switch (random.nextInt(4)) {
            case 0 -> {
                if (t.getDimsCount() > 0) {
                    t.setDims(random.nextInt(t.getDimsCount()), interesting());
                }
            }
            case 1 -> t.addDims(random.nextInt(4));
            case 2 -> t.setDataType(random.nextInt(18));
            default -> {
                if (!t.getRawData().isEmpty()) {
                    ByteString raw = t.getRawData();
                    t.setRawData(raw.substring(0, random.nextInt(raw.size())));
                }
            }
        }
    }

    private byte[] mutateBytes(byte[] seed) {
        byte[] b = seed.clone();
        if (b.length == 0) {
            return new byte[] {(byte) random.nextInt(256)};
        }
        switch (random.nextInt(4)) {
            case 0 -> {
                for (int i = 0, flips = 1 + random.nextInt(8); i < flips; i++) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length)); // truncated
            case 2 -> {
                int at = random.nextInt(b.length);
                long v = interesting();
                for (int i = 0; i < 8 && at + i < b.length; i++) {
                    b[at + i] = (byte) (v >>> (8 * i));
                }
            }
            default -> {
                int at = random.nextInt(b.length);
                byte[] longer = new byte[b.length + 1 + random.nextInt(16)];
                System.arraycopy(b, 0, longer, 0, at);
                for (int i = at; i < at + longer.length - b.length; i++) {
                    longer[i] = (byte) random.nextInt(256);
                }
                System.arraycopy(b, at, longer, at + longer.length - b.length, b.length - at);
                b = longer;
            }
        }
        return b;
    }
}
