package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.models.onnx.IntTensor.DimOf;
import dev.kiln.models.onnx.IntTensor.Element;
import dev.kiln.models.onnx.IntTensor.Known;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ops that change shapes or compute them. On data they become Kiln Reshapes (Reshape, Squeeze,
 * Unsqueeze) with targets resolved at import time. On small integer tensors (Shape, Gather,
 * Unsqueeze, Concat, Cast of a shape) they are evaluated during import: PyTorch builds Reshape
 * targets that way when the batch is symbolic. Constant nodes become values known at import
 * time, and initializers when a node reads them as data.
 */
final class ShapeOps {
    private ShapeOps() {
    }

    static void register(Map<String, OpConverter> m) {
        m.put("Reshape", ShapeOps::reshape);
        m.put("Squeeze", c -> squeezeOrUnsqueeze(c, true));
        m.put("Unsqueeze", c -> squeezeOrUnsqueeze(c, false));
        m.put("Shape", ShapeOps::shape);
        m.put("Gather", ShapeOps::gather);
        m.put("Cast", ShapeOps::cast);
        m.put("Constant", ShapeOps::constant);
    }

    /** Whether a value is an integer tensor known at import time. */
    static boolean isInteger(ImportedValue v) {
        return v instanceof ImportedValue.Ints
                || v instanceof ImportedValue.Constant c && TensorData.isInteger(c.data().type());
    }

    // ---- Reshape ----

    private static void reshape(NodeContext c) {
        IntTensor target = c.opset() < 5 ? attributeInts(c, "shape") : c.ints(1, "shape");
        boolean allowZero = c.attributes().getInt("allowzero", 0) != 0;
        if (target.rank() != 1) {
            throw c.invalid("the shape must be a vector, got dims " + Arrays.toString(target.dims()));
        }
        if (isInteger(c.value(0))) {
            reshapeIntegers(c, c.ints(0, "data"), target);
            return;
        }
        String x = c.data(0);
        c.emit(resolve(c, x, target.elements(), allowZero), x);
    }

    private static IntTensor attributeInts(NodeContext c, String attribute) {
        long[] values = c.attributes().getInts(attribute);
        if (values == null) {
            throw c.invalid("the required attribute " + attribute + " is missing");
        }
        return IntTensor.of(new int[] {values.length}, values);
    }

    /**
     * A Kiln Reshape for a target whose elements are numbers or dims of values. A dim known at
     * import time becomes its number; the reshaped value's own dim at the same position becomes
     * 0 (copy); what is left must be one element, inferred as -1.
     */
    static Reshape resolve(NodeContext c, String x, List<Element> target, boolean allowZero) {
        int[] out = new int[target.size()];
        boolean copies = false;
        boolean literalZero = false;
        int inferred = 0;
        for (int p = 0; p < out.length; p++) {
            Element e = target.get(p);
            if (e instanceof DimOf d) {
                Shape s = c.shapeOf(d.value());
                if (s != null && d.axis() < s.rank() && s.dim(d.axis()) != Shape.DYNAMIC) {
                    e = new Known(s.dim(d.axis()));
                } else if (d.value().equals(x) && d.axis() == p) {
                    out[p] = 0;
                    copies = true;
                    continue;
                } else {
                    out[p] = -1;
                    inferred++;
                    continue;
                }
            }
            long v = ((Known) e).value();
            if (v < -1 || v > Integer.MAX_VALUE) {
                throw c.invalid("shape element " + v + " at position " + p + " is out of range");
            }
            if (v == -1) {
                inferred++;
            }
            if (v == 0) {
                if (allowZero) {
                    literalZero = true;
                } else {
                    copies = true;
                }
            }
            out[p] = (int) v;
        }
        if (inferred > 1) {
            throw c.unsupported("several dims known only at run time", "the shape " + target
                    + " leaves more than one dimension to be inferred");
        }
        if (allowZero && copies && literalZero) {
            throw c.unsupported("allowzero with a copied dim", "the shape " + target
                    + " mixes literal zeros (allowzero) with a dimension copied from the input");
        }
        return new Reshape(out, allowZero && !copies);
    }

    private static void reshapeIntegers(NodeContext c, IntTensor data, IntTensor target) {
        long[] t = requireKnown(c, target, "shape");
        int[] dims = new int[t.length];
        long count = 1;
        int inferred = -1;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == -1) {
                inferred = i;
                continue;
            }
            if (t[i] == 0 && i >= data.rank() || t[i] < -1 || t[i] > Integer.MAX_VALUE) {
                throw c.invalid("shape " + Arrays.toString(t) + " does not fit data of dims "
                        + Arrays.toString(data.dims()));
            }
            dims[i] = (int) (t[i] == 0 ? data.dims()[i] : t[i]);
            count *= dims[i];
        }
        if (inferred >= 0) {
            dims[inferred] = (int) (data.size() / Math.max(count, 1));
        }
        c.define(0, new ImportedValue.Ints(new IntTensor(dims, data.elements())));
    }

    // ---- Squeeze and Unsqueeze ----

    /** Axes from the attribute (before opset 13) or the optional input (13 and later). */
    private static void squeezeOrUnsqueeze(NodeContext c, boolean squeeze) {
        long[] axes = c.opset() < 13 ? c.attributes().getInts("axes")
                : c.hasInput(1) ? c.constantInts(1, "axes") : null;
        if (axes == null && !squeeze) {
            throw c.invalid("Unsqueeze needs axes");
        }
        if (isInteger(c.value(0))) {
            IntTensor in = c.ints(0, "data");
            int[] dims = squeeze ? squeezedDims(c, in.dims(), axes) : unsqueezedDims(c, in.dims(), axes);
            c.define(0, new ImportedValue.Ints(new IntTensor(dims, in.elements())));
            return;
        }
        String x = c.data(0);
        Shape s = c.requireShape(x, "to " + (squeeze ? "squeeze" : "unsqueeze") + " it");
        // Which input axis each output axis comes from (-1: a new axis of size 1).
        int[] from = squeeze ? squeezeSources(c, s, axes) : unsqueezeSources(c, s.rank(), axes);
        List<Element> target = new ArrayList<>();
        for (int source : from) {
            target.add(source < 0 ? new Known(1) : new DimOf(x, source));
        }
        c.emit(resolve(c, x, target, false), x);
    }

    private static int[] squeezeSources(NodeContext c, Shape s, long[] axes) {
        Set<Integer> removed = new HashSet<>();
        if (axes == null) {
            for (int i = 0; i < s.rank(); i++) {
                if (s.dim(i) == Shape.DYNAMIC) {
                    throw c.unsupported("squeeze of a symbolic dim", "without axes, Squeeze needs every dim of "
                            + s + " known at import time");
                }
                if (s.dim(i) == 1) {
                    removed.add(i);
                }
            }
        } else {
            for (long a : axes) {
                removed.add(normalize(c, a, s.rank()));
            }
        }
        return java.util.stream.IntStream.range(0, s.rank()).filter(i -> !removed.contains(i)).toArray();
    }

    private static int[] unsqueezeSources(NodeContext c, int rank, long[] axes) {
        int outRank = rank + axes.length;
        boolean[] inserted = new boolean[outRank];
        for (long a : axes) {
            int axis = normalize(c, a, outRank);
            if (inserted[axis]) {
                throw c.invalid("axis " + a + " is given twice");
            }
            inserted[axis] = true;
        }
        int[] from = new int[outRank];
        int next = 0;
        for (int p = 0; p < outRank; p++) {
            from[p] = inserted[p] ? -1 : next++;
        }
        return from;
    }

    private static int[] squeezedDims(NodeContext c, int[] dims, long[] axes) {
        Shape s = Shape.of(dims);
        return Arrays.stream(squeezeSources(c, s, axes)).map(i -> dims[i]).toArray();
    }

    private static int[] unsqueezedDims(NodeContext c, int[] dims, long[] axes) {
        return Arrays.stream(unsqueezeSources(c, dims.length, axes)).map(i -> i < 0 ? 1 : dims[i]).toArray();
    }

    private static int normalize(NodeContext c, long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw c.invalid("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    // ---- shape arithmetic ----

    /** Shape of data: each dim known at import time, or symbolic. Opset 15 adds start and end. */
    private static void shape(NodeContext c) {
        ImportedValue v = c.value(0);
        int[] dims;
        String source = null;
        if (v instanceof ImportedValue.Constant k) {
            dims = k.data().shape().dims();
        } else if (v instanceof ImportedValue.Ints ints) {
            dims = ints.value().dims();
        } else {
            source = c.data(0);
            dims = c.requireShape(source, "to take its Shape").dims();
        }
        int rank = dims.length;
        int start = clampAxis(c.attributes().getInt("start", 0), rank);
        int end = clampAxis(c.attributes().getInt("end", rank), rank);
        List<Element> elements = new ArrayList<>();
        for (int i = start; i < end; i++) {
            elements.add(dims[i] == Shape.DYNAMIC ? new DimOf(source, i) : new Known(dims[i]));
        }
        c.define(0, new ImportedValue.Ints(IntTensor.vector(elements)));
    }

    private static int clampAxis(long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        return (int) Math.max(0, Math.min(rank, a));
    }

    /** Gather along axis 0 of an integer vector (picking dims out of a shape). */
    private static void gather(NodeContext c) {
        if (!isInteger(c.value(0))) {
            throw c.unsupported("on float data", "Gather is imported only for shape computations, on integers");
        }
        IntTensor data = c.ints(0, "data");
        long axis = c.attributes().getInt("axis", 0);
        if (data.rank() != 1 || (axis != 0 && axis != -1)) {
            throw c.unsupported("on a tensor of rank " + data.rank(), "Gather is imported only along axis 0 of a vector");
        }
        IntTensor indices = c.ints(1, "indices");
        long[] picked = requireKnown(c, indices, "indices");
        List<Element> elements = new ArrayList<>();
        for (long index : picked) {
            long i = index < 0 ? index + data.size() : index;
            if (i < 0 || i >= data.size()) {
                throw c.invalid("index " + index + " is out of range for " + data.size() + " elements");
            }
            elements.add(data.elements().get((int) i));
        }
        c.define(0, new ImportedValue.Ints(new IntTensor(indices.dims(), elements)));
    }

    /** Concat of integer vectors along their only axis. */
    static void concatIntegers(NodeContext c) {
        List<Element> elements = new ArrayList<>();
        for (int i = 0; i < c.inputCount(); i++) {
            IntTensor part = c.ints(i, "input " + i);
            if (part.rank() != 1) {
                throw c.invalid("integer inputs to Concat must be vectors, input " + i + " has dims "
                        + Arrays.toString(part.dims()));
            }
            elements.addAll(part.elements());
        }
        c.define(0, new ImportedValue.Ints(IntTensor.vector(elements)));
    }

    /** Casts between integer types keep a shape computation; a cast of float data to float is an Identity. */
    private static void cast(NodeContext c) {
        DataType to = DataType.forNumber((int) c.attributes().getInt("to", 0));
        if (to == null) {
            throw c.invalid("cast to unknown type " + c.attributes().getInt("to", 0));
        }
        ImportedValue v = c.value(0);
        if (isInteger(v) && TensorData.isInteger(to) && to != DataType.BOOL) {
            c.define(0, new ImportedValue.Ints(c.ints(0, "input")));
        } else if (to == DataType.FLOAT && !isInteger(v)) {
            if (v instanceof ImportedValue.Constant) {
                c.define(0, v);
            } else {
                c.emit(Passthrough.IDENTITY, c.data(0));
            }
        } else {
            throw c.unsupported("to " + to, "only casts that keep float32 data, or integers of a shape, are supported");
        }
    }

    private static long[] requireKnown(NodeContext c, IntTensor t, String role) {
        if (!t.isKnown()) {
            throw c.unsupported(role + " depends on the batch size", role + " " + t + " depends on the batch size");
        }
        return t.values();
    }

    // ---- Constant ----

    /** value (a tensor), value_float(s), value_int(s); strings and sparse tensors are not supported. */
    private static void constant(NodeContext c) {
        TensorProto tensor = null;
        for (String attribute : c.attributes().names()) {
            TensorProto.Builder b = TensorProto.newBuilder();
            switch (attribute) {
                case "value" -> tensor = c.attributes().getTensor("value");
                case "value_float" -> tensor = b.setDataType(DataType.FLOAT_VALUE)
                        .addFloatData(c.attributes().getFloat("value_float", 0)).build();
                case "value_floats" -> {
                    float[] values = c.attributes().getFloats("value_floats");
                    b.setDataType(DataType.FLOAT_VALUE).addDims(values.length);
                    for (float f : values) {
                        b.addFloatData(f);
                    }
                    tensor = b.build();
                }
                case "value_int" -> tensor = b.setDataType(DataType.INT64_VALUE)
                        .addInt64Data(c.attributes().getInt("value_int", 0)).build();
                case "value_ints" -> {
                    long[] values = c.attributes().getInts("value_ints");
                    b.setDataType(DataType.INT64_VALUE).addDims(values.length);
                    for (long v : values) {
                        b.addInt64Data(v);
                    }
                    tensor = b.build();
                }
                case "sparse_value", "value_string", "value_strings" ->
                        throw c.unsupported(attribute, "a Constant given as " + attribute + " is not supported");
                default -> {
                    // unknown attributes of later opsets are left to the value check below
                }
            }
        }
        if (tensor == null) {
            throw c.invalid("a Constant needs a value attribute");
        }
        if (tensor.getName().isEmpty()) {
            tensor = tensor.toBuilder().setName(c.output(0)).build();
        }
        c.define(0, new ImportedValue.Constant(TensorData.of(tensor, c.describe() + " value",
                c.modelFolder())));
    }
}
