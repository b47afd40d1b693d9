package dev.kiln.conformance.fuzz;

import com.google.protobuf.ByteString;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.conformance.RandomTensors;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Turns a {@link GraphRecipe} into an ONNX model (opset 17) and its input, working out every
 * value's shape by ONNX's rules on the way: the one home of the fuzzer's shape rules, which the
 * generator uses to build only valid graphs and the shrinker to reject edits that break one.
 * Weights are drawn from each node's seed with shapes that follow its inputs, scaled by fan-in so
 * that values stay near unit size through any depth; biases lean positive, so that activations
 * see inputs on both sides of zero rather than a thin slice around it.
 */
public final class RecipeMaterializer {
    /** ONNX's opset written: the exporter's, which has HardSwish, Clip bounds as inputs, axes as inputs. */
    public static final int OPSET = 17;
    /** The graph input's name. */
    public static final String INPUT = "x";

    /** A value while the recipe is walked: its dims, and for an integer tensor (a shape) its elements. */
    public record Value(int[] dims, long[] ints) {
        boolean isInts() {
            return ints != null;
        }

        int rank() {
            return dims.length;
        }
    }

    /** The materialized model: the ONNX file's content, its input, every value's shape, the graph outputs. */
    public record Materialized(ModelProto model, Tensor input, List<Value> values, List<String> outputs)
            implements AutoCloseable {
        @Override
        public void close() {
            input.close();
        }
    }

    private final GraphRecipe recipe;
    private final boolean emit;
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private final List<Value> values = new ArrayList<>();

    private RecipeMaterializer(GraphRecipe recipe, boolean emit) {
        this.recipe = recipe;
        this.emit = emit;
    }

    /**
     * The model and its input (the caller closes the input).
     *
     * @throws InvalidRecipeException naming the node whose inputs do not fit it
     */
    public static Materialized materialize(GraphRecipe recipe) {
        RecipeMaterializer m = new RecipeMaterializer(recipe, true);
        List<String> outputs = m.walk();
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setProducerName("kiln-fuzz")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(m.graph.setName("fuzz")).build();
        Tensor input = RandomTensors.uniform(Shape.of(recipe.input()), recipe.inputSeed(), INPUT, -1.5f, 1.5f);
        return new Materialized(model, input, List.copyOf(m.values), outputs);
    }

    /**
     * Every value's shape (value 0 is the input), without making weights.
     *
     * @throws InvalidRecipeException naming the node whose inputs do not fit it
     */
    public static List<Value> shapes(GraphRecipe recipe) {
        RecipeMaterializer m = new RecipeMaterializer(recipe, false);
        m.walk();
        return List.copyOf(m.values);
    }

    /** The ONNX name of value {@code k}. */
    public static String valueName(int k) {
        return k == 0 ? INPUT : "v" + k;
    }

    /** The ONNX name of node {@code k} (it writes value k + 1). */
    public static String nodeName(int k, String op) {
        return "n" + (k + 1) + "_" + op;
    }

    private List<String> walk() {
        int[] in = recipe.input();
        if (in.length != 4 || Arrays.stream(in).anyMatch(d -> d < 1)) {
            throw new InvalidRecipeException("the input must be NCHW with positive dims, got " + Arrays.toString(in));
        }
        values.add(new Value(in, null));
        if (emit) {
            graph.addInput(valueInfo(INPUT, in));
        }
        if (recipe.nodes().isEmpty()) {
            throw new InvalidRecipeException("a recipe needs at least one node");
        }
        Set<Integer> read = new HashSet<>();
        for (int k = 0; k < recipe.nodes().size(); k++) {
            FuzzNode n = recipe.nodes().get(k);
            for (int i : n.inputs()) {
                if (i < 0 || i > k) {
                    throw new InvalidRecipeException("node " + k + " (" + n.op() + ") reads value " + i
                            + ", which is not computed before it");
                }
                read.add(i);
            }
            try {
                values.add(node(k, n));
            } catch (IllegalArgumentException | ArithmeticException e) {
                // A window that does not fit (ShapeArithmeticException), a size past int.
                throw new InvalidRecipeException("node " + k + " (" + n.op() + "): " + e.getMessage());
            }
        }
        List<String> outputs = new ArrayList<>();
        for (int v = 1; v < values.size(); v++) {
            Value value = values.get(v);
            if (!read.contains(v) && !value.isInts() && value.rank() > 0) {
                outputs.add(valueName(v));
                if (emit) {
                    graph.addOutput(ValueInfoProto.newBuilder().setName(valueName(v)).setType(TypeProto.newBuilder()
                            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE))));
                }
            }
        }
        if (outputs.isEmpty()) {
            throw new InvalidRecipeException("the recipe computes no float value that nothing reads (no output)");
        }
        return outputs;
    }

    // ---- one node ----

    private Value node(int k, FuzzNode n) {
        List<Value> in = n.inputs().stream().map(values::get).toList();
        String name = nodeName(k, n.op());
        List<String> inputs = new ArrayList<>(n.inputs().stream().map(RecipeMaterializer::valueName).toList());
        List<AttributeProto> attributes = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(n.seed());
        Value out = switch (n.op()) {
            case "Conv" -> conv(n, in, name, inputs, attributes, random);
            case "MaxPool", "AveragePool" -> pool(n, in, attributes);
            case "GlobalAveragePool", "GlobalMaxPool" -> {
                int[] x = data4(n, in, 0);
                yield data(x[0], x[1], 1, 1);
            }
            case "BatchNormalization" -> {
                int[] x = data(n, in, 0);
                require(x.length >= 2, n, "needs channels");
                int c = x[1];
                inputs.add(floats(name + "_scale", random, new int[] {c}, 0.5f, 1.5f));
                inputs.add(floats(name + "_bias", random, new int[] {c}, -0.3f, 0.3f));
                inputs.add(floats(name + "_mean", random, new int[] {c}, -0.5f, 0.5f));
                inputs.add(floats(name + "_var", random, new int[] {c}, 0.5f, 2f));
                copy(n, attributes, "epsilon");
                yield new Value(x, null);
            }
            case "LRN" -> {
                data4(n, in, 0);
                copy(n, attributes, "size", "alpha", "beta", "bias");
                require(n.intAttribute("size", 0) >= 1, n, "needs a size");
                yield in.getFirst();
            }
            case "Relu", "Sigmoid", "Tanh", "HardSwish", "Identity" -> new Value(data(n, in, 0), null);
            case "LeakyRelu", "HardSigmoid" -> {
                copy(n, attributes, "alpha", "beta");
                yield new Value(data(n, in, 0), null);
            }
            case "Dropout" -> new Value(data(n, in, 0), null);
            case "Clip" -> clip(n, in, name, inputs);
            case "Add", "Sub", "Mul", "Div", "Max", "Min" -> binary(n, in, name, inputs, random);
            case "Concat" -> concat(n, in, attributes);
            case "Flatten" -> {
                int[] x = data(n, in, 0);
                int axis = (int) n.intAttribute("axis", 1);
                require(axis >= 0 && axis <= x.length, n, "axis " + axis + " outside rank " + x.length);
                copy(n, attributes, "axis");
                yield data(product(x, 0, axis), product(x, axis, x.length));
            }
            case "Pad" -> pad(n, in, name, inputs);
            case "Transpose" -> {
                int[] x = data(n, in, 0);
                long[] perm = n.intsAttribute("perm");
                require(perm != null && perm.length == x.length, n, "perm must list every axis");
                int[] y = new int[x.length];
                boolean[] seen = new boolean[x.length];
                for (int i = 0; i < perm.length; i++) {
                    require(perm[i] >= 0 && perm[i] < x.length && !seen[(int) perm[i]], n, "perm is not a permutation");
                    seen[(int) perm[i]] = true;
                    y[i] = x[(int) perm[i]];
                }
                copy(n, attributes, "perm");
                yield new Value(y, null);
            }
            case "Reshape" -> reshape(n, in, name, inputs);
            case "Squeeze", "Unsqueeze" -> squeezeOrUnsqueeze(n, in, name, inputs);
            case "Shape" -> {
                require(in.size() == 1, n, "reads one value");
                int[] x = in.getFirst().dims();
                yield new Value(new int[] {x.length}, Arrays.stream(x).asLongStream().toArray());
            }
            case "Gather" -> {
                require(in.size() == 1 && in.getFirst().isInts() && in.getFirst().rank() == 1, n,
                        "gathers from a shape");
                long[] s = in.getFirst().ints();
                int index = (int) n.intAttribute("_index", 0);
                require(index >= 0 && index < s.length, n, "index " + index + " outside " + s.length);
                inputs.add(ints(name + "_index", new int[0], index));
                yield new Value(new int[0], new long[] {s[index]});
            }
            case "Cast" -> {
                require(in.size() == 1, n, "reads one value");
                copy(n, attributes, "to");
                long to = n.intAttribute("to", 0);
                require(in.getFirst().isInts() ? to == DataType.INT64_VALUE : to == DataType.FLOAT_VALUE, n,
                        "casts a shape to int64 or float data to float");
                yield in.getFirst();
            }
            case "Constant" -> {
                require(in.isEmpty(), n, "reads nothing");
                if (n.intsAttribute("value_ints") != null) {
                    long[] v = n.intsAttribute("value_ints");
                    copy(n, attributes, "value_ints");
                    yield new Value(new int[] {v.length}, v);
                }
                copy(n, attributes, "value_float");
                yield new Value(new int[0], null);
            }
            case "Gemm" -> gemm(n, in, name, inputs, attributes, random);
            case "MatMul" -> {
                int[] x = data(n, in, 0);
                require(x.length == 2 && n.width() > 0, n, "multiplies a matrix by a constant one");
                inputs.add(floats(name + "_B", random, new int[] {x[1], n.width()}, -scale(x[1]), scale(x[1])));
                yield data(x[0], n.width());
            }
            case "Softmax" -> {
                int[] x = data(n, in, 0);
                long axis = n.intAttribute("axis", -1);
                require(axis >= -x.length && axis < x.length, n, "axis " + axis + " outside rank " + x.length);
                copy(n, attributes, "axis");
                yield new Value(x, null);
            }
            default -> throw new InvalidRecipeException("node " + k + ": the fuzzer has no rule for op " + n.op());
        };
        if (emit) {
            NodeProto.Builder b = NodeProto.newBuilder().setName(name).setOpType(n.op()).addAllInput(inputs)
                    .addOutput(valueName(k + 1)).addAllAttribute(attributes);
            graph.addNode(b);
        }
        return out;
    }

    private Value conv(FuzzNode n, List<Value> in, String name, List<String> inputs, List<AttributeProto> attributes,
                       SplittableRandom random) {
        int[] x = data4(n, in, 0);
        int c = x[1];
        int groups;
        int width;
        if (n.intAttribute("_depthwise", 0) == 1) {
            groups = c;
            width = c * (int) n.intAttribute("_multiplier", 1);
        } else {
            groups = (int) n.intAttribute("group", 1);
            width = n.width();
        }
        require(groups >= 1 && width >= 1 && c % groups == 0 && width % groups == 0, n,
                "groups " + groups + " must divide input channels " + c + " and output channels " + width);
        Window w = window(n, false);
        int[] y = outputDims(n, x, w, width, false);
        int perGroup = c / groups;
        int fanIn = perGroup * w.kernelH() * w.kernelW();
        inputs.add(floats(name + "_W", random, new int[] {width, perGroup, w.kernelH(), w.kernelW()},
                -scale(fanIn), scale(fanIn)));
        if (n.intAttribute("_bias", 1) == 1) {
            inputs.add(floats(name + "_B", random, new int[] {width}, -0.2f, 0.6f));
        }
        attributes.add(ints("group", groups));
        windowAttributes(n, attributes, true);
        return new Value(y, null);
    }

    private Value pool(FuzzNode n, List<Value> in, List<AttributeProto> attributes) {
        int[] x = data4(n, in, 0);
        Window w = window(n, true);
        boolean ceil = n.intAttribute("ceil_mode", 0) == 1;
        Window resolved = w.resolve(x[2], x[3]);
        resolved.requirePadsSmallerThanKernel();
        resolved.requireEveryWindowOnInput(x[2], x[3], ceil);
        int[] y = outputDims(n, x, w, x[1], ceil);
        windowAttributes(n, attributes, n.op().equals("MaxPool"));
        copy(n, attributes, "ceil_mode", "count_include_pad");
        return new Value(y, null);
    }

    private static int[] outputDims(FuzzNode n, int[] x, Window w, int channels, boolean ceil) {
        Shape y = w.outputShape(Shape.of(x), channels, ceil);
        require(y.dim(2) >= 1 && y.dim(3) >= 1, n, "empty output " + y);
        return y.dims();
    }

    private static Window window(FuzzNode n, boolean pool) {
        long[] k = n.intsAttribute("kernel_shape");
        require(k != null && k.length == 2, n, "needs a 2-D kernel_shape");
        long[] s = or(n.intsAttribute("strides"), 1, 1);
        long[] d = or(n.intsAttribute("dilations"), 1, 1);
        long[] p = or(n.intsAttribute("pads"), 0, 0, 0, 0);
        require(!pool || n.op().equals("MaxPool") || (d[0] == 1 && d[1] == 1), n, "an average pool has no dilations");
        Window.AutoPad auto = switch (n.stringAttribute("auto_pad", "NOTSET")) {
            case "SAME_UPPER" -> Window.AutoPad.SAME_UPPER;
            case "SAME_LOWER" -> Window.AutoPad.SAME_LOWER;
            case "VALID" -> Window.AutoPad.VALID;
            default -> Window.AutoPad.EXPLICIT;
        };
        return new Window((int) k[0], (int) k[1], (int) s[0], (int) s[1], (int) p[0], (int) p[1], (int) p[2],
                (int) p[3], (int) d[0], (int) d[1], auto);
    }

    private static void windowAttributes(FuzzNode n, List<AttributeProto> attributes, boolean dilations) {
        copy(n, attributes, "kernel_shape", "strides", "pads", "auto_pad");
        if (dilations) {
            copy(n, attributes, "dilations");
        }
    }

    private Value clip(FuzzNode n, List<Value> in, String name, List<String> inputs) {
        int[] x = data(n, in, 0);
        if (in.size() == 1) {
            inputs.add(scalar(name + "_min", n.floatAttribute("_min", 0)));
            inputs.add(scalar(name + "_max", n.floatAttribute("_max", 6)));
        } else {
            require(in.size() == 3 && in.get(1).rank() == 0 && in.get(2).rank() == 0 && !in.get(1).isInts()
                    && !in.get(2).isInts(), n, "reads its bounds as float scalars");
        }
        return new Value(x, null);
    }

    private Value binary(FuzzNode n, List<Value> in, String name, List<String> inputs, SplittableRandom random) {
        int[] a = data(n, in, 0);
        int[] b;
        if (in.size() == 2) {
            b = data(n, in, 1);
        } else {
            require(in.size() == 1, n, "reads one or two values");
            String operand = n.stringAttribute("_operand", "channel");
            b = switch (operand) {
                case "scalar" -> new int[0];
                case "channel" -> a.length == 4 ? new int[] {1, a[1], 1, 1} : new int[] {a[a.length - 1]};
                case "plane" -> a.length == 4 ? new int[] {a[1], 1, 1} : new int[] {1, a[a.length - 1]};
                default -> a;
            };
            boolean div = n.op().equals("Div");
            String constant = div ? divisor(name + "_K", random, b) : floats(name + "_K", random, b, -1f, 1f);
            if (n.intAttribute("_constantFirst", 0) == 1 && !div) {
                inputs.addFirst(constant);
            } else {
                inputs.add(constant);
            }
        }
        return new Value(broadcast(n, a, b), null);
    }

    /** A divisor away from zero: magnitudes in [0.5, 2], either sign. */
    private String divisor(String name, SplittableRandom random, int[] dims) {
        int count = Math.toIntExact(product(dims, 0, dims.length));
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) ((0.5 + 1.5 * random.nextDouble()) * (random.nextBoolean() ? 1 : -1));
        }
        return floats(name, dims, v);
    }

    private static int[] broadcast(FuzzNode n, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] y = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            require(da == db || da == 1 || db == 1, n, "shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                    + " do not broadcast");
            y[i] = Math.max(da, db);
        }
        return y;
    }

    private Value concat(FuzzNode n, List<Value> in, List<AttributeProto> attributes) {
        require(!in.isEmpty(), n, "reads at least one value");
        if (in.stream().allMatch(v -> v.isInts() && v.rank() == 1)) {
            // A shape being built (PyTorch's view(x.size(0), -1)): the importer evaluates it.
            require(n.intAttribute("axis", 0) == 0, n, "concatenates shapes along axis 0");
            copy(n, attributes, "axis");
            long[] joined = in.stream().flatMapToLong(v -> Arrays.stream(v.ints())).toArray();
            return new Value(new int[] {joined.length}, joined);
        }
        int[] first = data(n, in, 0);
        int axis = (int) n.intAttribute("axis", 1);
        require(axis >= 0 && axis < first.length, n, "axis " + axis + " outside rank " + first.length);
        int[] y = first.clone();
        for (int i = 1; i < in.size(); i++) {
            int[] other = data(n, in, i);
            require(other.length == first.length, n, "ranks differ");
            for (int d = 0; d < first.length; d++) {
                require(d == axis || other[d] == first[d], n, "dims differ off the axis");
            }
            y[axis] += other[axis];
        }
        copy(n, attributes, "axis");
        return new Value(y, null);
    }

    private Value pad(FuzzNode n, List<Value> in, String name, List<String> inputs) {
        int[] x = data4(n, in, 0);
        long[] pads = n.intsAttribute("_pads");
        require(pads != null && pads.length == 8 && Arrays.stream(pads).allMatch(p -> p >= 0), n,
                "needs 8 non-negative pads");
        inputs.add(ints(name + "_pads", new int[] {8}, pads));
        inputs.add(scalar(name + "_value", n.floatAttribute("_value", 0)));
        int[] y = new int[4];
        for (int i = 0; i < 4; i++) {
            y[i] = Math.toIntExact(x[i] + pads[i] + pads[i + 4]);
        }
        require(product(y, 0, 4) <= 1 << 20, n, "pads grow the value past a million elements");
        return new Value(y, null);
    }

    private Value reshape(FuzzNode n, List<Value> in, String name, List<String> inputs) {
        int[] x = data(n, in, 0);
        long[] target;
        if (in.size() == 2) {
            require(in.get(1).isInts() && in.get(1).rank() == 1, n, "reads its target shape as integers");
            target = in.get(1).ints();
        } else {
            target = n.intsAttribute("_shape");
            require(target != null, n, "needs a target shape");
            inputs.add(ints(name + "_shape", new int[] {target.length}, target));
        }
        int[] y = new int[target.length];
        long known = 1;
        int inferred = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                require(inferred < 0, n, "two -1 in the target");
                inferred = i;
                continue;
            }
            require(target[i] >= 0, n, "negative target dim");
            y[i] = target[i] == 0 ? dimAt(n, x, i) : (int) target[i];
            known *= y[i];
        }
        long total = product(x, 0, x.length);
        if (inferred >= 0) {
            require(known > 0 && total % known == 0, n, "target " + Arrays.toString(target) + " does not divide "
                    + total);
            y[inferred] = (int) (total / known);
        }
        require(product(y, 0, y.length) == total, n, "target " + Arrays.toString(target) + " has another size");
        return new Value(y, null);
    }

    private static int dimAt(FuzzNode n, int[] x, int i) {
        require(i < x.length, n, "a 0 past the input's rank");
        return x[i];
    }

    private Value squeezeOrUnsqueeze(FuzzNode n, List<Value> in, String name, List<String> inputs) {
        require(in.size() == 1, n, "reads one value");
        Value x = in.getFirst();
        long[] axes = n.intsAttribute("_axes");
        require(axes != null, n, "needs axes");
        inputs.add(ints(name + "_axes", new int[] {axes.length}, axes));
        List<Integer> dims = new ArrayList<>(Arrays.stream(x.dims()).boxed().toList());
        if (n.op().equals("Squeeze")) {
            long[] sorted = axes.clone();
            Arrays.sort(sorted);
            for (int i = sorted.length - 1; i >= 0; i--) {
                int a = (int) sorted[i];
                require(a >= 0 && a < dims.size() && dims.get(a) == 1, n, "axis " + a + " is not of size 1");
                dims.remove(a);
            }
        } else {
            long[] sorted = axes.clone();
            Arrays.sort(sorted);
            for (long a : sorted) {
                require(a >= 0 && a <= dims.size(), n, "axis " + a + " outside the result");
                dims.add((int) a, 1);
            }
        }
        return new Value(dims.stream().mapToInt(Integer::intValue).toArray(), x.ints());
    }

    private Value gemm(FuzzNode n, List<Value> in, String name, List<String> inputs, List<AttributeProto> attributes,
                       SplittableRandom random) {
        int[] x = data(n, in, 0);
        require(x.length == 2 && n.width() > 0, n, "multiplies a matrix [M, K]");
        int k = x[1];
        boolean transB = n.intAttribute("transB", 0) == 1;
        inputs.add(floats(name + "_B", random, transB ? new int[] {n.width(), k} : new int[] {k, n.width()},
                -scale(k), scale(k)));
        String bias = n.stringAttribute("_bias", "row");
        if (!bias.equals("none")) {
            inputs.add(floats(name + "_C", random, bias.equals("matrix") ? new int[] {1, n.width()}
                    : new int[] {n.width()}, -0.2f, 0.6f));
        }
        copy(n, attributes, "alpha", "beta", "transB");
        return data(x[0], n.width());
    }

    // ---- helpers ----

    private static int[] data(FuzzNode n, List<Value> in, int i) {
        require(i < in.size(), n, "reads " + in.size() + " values, needs " + (i + 1));
        require(!in.get(i).isInts(), n, "reads a shape where it needs float data");
        return in.get(i).dims();
    }

    private static int[] data4(FuzzNode n, List<Value> in, int i) {
        int[] x = data(n, in, i);
        require(x.length == 4, n, "needs an NCHW value, got rank " + x.length);
        return x;
    }

    private static Value data(int... dims) {
        return new Value(dims, null);
    }

    private static void require(boolean condition, FuzzNode n, String why) {
        if (!condition) {
            throw new InvalidRecipeException(n.op() + " " + n.inputs() + ": " + why);
        }
    }

    private static long[] or(long[] v, long... otherwise) {
        return v == null ? otherwise : v;
    }

    private static long product(int[] dims, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= dims[i];
        }
        return p;
    }

    private static int productInt(int[] dims, int from, int to) {
        return Math.toIntExact(product(dims, from, to));
    }

    private static Value dataOf(long rows, long cols) {
        return new Value(new int[] {Math.toIntExact(rows), Math.toIntExact(cols)}, null);
    }

    private static Value data(long rows, long cols) {
        return dataOf(rows, cols);
    }

    /** The uniform bound that keeps a sum of {@code fanIn} products near unit variance. */
    private static float scale(int fanIn) {
        return (float) Math.sqrt(3.0 / Math.max(1, fanIn));
    }

    private String floats(String name, SplittableRandom random, int[] dims, float min, float max) {
        int count = productInt(dims, 0, dims.length);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (min + (max - min) * random.nextDouble());
        }
        return floats(name, dims, v);
    }

    private String floats(String name, int[] dims, float[] v) {
        if (emit) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                b.putFloat(f);
            }
            TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE)
                    .setRawData(ByteString.copyFrom(b.array()));
            Arrays.stream(dims).forEach(t::addDims);
            graph.addInitializer(t);
        }
        return name;
    }

    private String scalar(String name, float value) {
        return floats(name, new int[0], new float[] {value});
    }

    private String ints(String name, int[] dims, long... v) {
        if (emit) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long l : v) {
                b.putLong(l);
            }
            TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(DataType.INT64_VALUE)
                    .setRawData(ByteString.copyFrom(b.array()));
            Arrays.stream(dims).forEach(t::addDims);
            graph.addInitializer(t);
        }
        return name;
    }

    /** Copies the named attributes the node has into ONNX attributes (hints starting with _ never). */
    private static void copy(FuzzNode n, List<AttributeProto> attributes, String... names) {
        for (String name : names) {
            Object v = n.attributes().get(name);
            if (v == null) {
                continue;
            }
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
            switch (v) {
                case Long l -> a.setType(AttributeType.INT).setI(l);
                case Float f -> a.setType(AttributeType.FLOAT).setF(f);
                case String s -> a.setType(AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
                case long[] l -> {
                    a.setType(AttributeType.INTS);
                    Arrays.stream(l).forEach(a::addInts);
                }
                default -> throw new IllegalStateException("attribute " + name + " of type " + v.getClass());
            }
            attributes.add(a.build());
        }
    }

    private static AttributeProto ints(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value).build();
    }

    private static ValueInfoProto valueInfo(String name, int[] dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
