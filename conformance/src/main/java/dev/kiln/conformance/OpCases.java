package dev.kiln.conformance;

import dev.kiln.Shape;
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
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.graph.ops.Window;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.kiln.Shape.DYNAMIC;

/**
 * A catalogue of small one-node cases covering each op of {@code dev.kiln.graph.ops} with the
 * attributes the six families use and the corners a kernel gets wrong: odd sizes, channel
 * counts that are not multiples of a SIMD width, asymmetric padding, ceil mode, broadcasting.
 * Inputs and weights are seeded, so every run and every backend sees the same data. Shapes are
 * small: the whole catalogue runs in seconds on the reference backend.
 */
public final class OpCases {
    private OpCases() {
    }

    /** Every op case, in a stable order, with unique names. */
    public static List<Case> all() {
        List<Case> cases = new ArrayList<>();
        cases.addAll(convolutions());
        cases.addAll(activations());
        cases.addAll(binaries());
        cases.addAll(pools());
        cases.addAll(normalizations());
        cases.addAll(matrixProducts());
        cases.addAll(dataMovement());
        cases.addAll(squeezeExcitations());
        Set<String> names = new HashSet<>();
        for (Case c : cases) {
            if (!names.add(c.name())) {
                throw new IllegalStateException("two op cases are named '" + c.name() + "'");
            }
        }
        return List.copyOf(cases);
    }

    /** Convolutions: window attributes, groups, bias, and every post-op. */
    public static List<Case> convolutions() {
        List<Case> cases = new ArrayList<>();
        List<PostOp> none = List.of();
        cases.add(conv("3x3 s1 p1", 2, 8, 10, 10, 16, Window.square(3, 1, 1), 1, true, none));
        cases.add(conv("3x3 s2 p1 odd size", 2, 8, 11, 11, 16, Window.square(3, 2, 1), 1, true, none));
        cases.add(conv("3x3 asymmetric pads", 2, 6, 9, 8, 10, Window.of(3, 3).withPads(0, 1, 2, 1), 1, true, none));
        cases.add(conv("3x3 dilation 2", 2, 6, 12, 12, 8, Window.square(3, 1, 2).withDilations(2, 2), 1, true, none));
        cases.add(conv("2x3 dilation 2x1 stride 1x2", 1, 5, 9, 13, 7,
                Window.of(2, 3).withDilations(2, 1).withStrides(1, 2).withPads(1, 0, 0, 1), 1, true, none));
        cases.add(conv("1x3 pads 0,1", 2, 8, 7, 7, 8, Window.of(1, 3).withPads(0, 1, 0, 1), 1, true,
                none));
        cases.add(conv("3x1 stride 2x1", 2, 8, 10, 6, 8, Window.of(3, 1).withStrides(2, 1).withPads(1, 0, 1, 0), 1,
                true, none));
        cases.add(conv("1x1", 2, 20, 7, 7, 24, Window.of(1, 1), 1, true, none));
        cases.add(conv("1x1 s2 projection", 2, 16, 8, 8, 32, Window.of(1, 1).withStrides(2, 2), 1, false, none));
        cases.add(conv("5x5 p2", 2, 4, 9, 9, 8, Window.square(5, 1, 2), 1, true, none));
        cases.add(conv("7x7 s2 p3 stem", 1, 3, 16, 16, 16, Window.square(7, 2, 3), 1, true, none));
        cases.add(conv("3x3 no bias", 2, 8, 8, 8, 8, Window.square(3, 1, 1), 1, false, none));
        cases.add(conv("3x3 long reduction", 1, 64, 6, 6, 16, Window.square(3, 1, 1), 1, true, none));
        cases.add(conv("3x3 one channel", 3, 1, 6, 6, 1, Window.square(3, 1, 1), 1, true, none));
        cases.add(conv("3x3 batch 3", 3, 17, 6, 6, 33, Window.square(3, 1, 1), 1, true, none));
        cases.add(conv("3x3 auto_pad SAME_UPPER s2", 2, 4, 8, 8, 8,
                Window.square(3, 2, 0).withAutoPad(Window.AutoPad.SAME_UPPER), 1, true, none));
        cases.add(conv("2x2 auto_pad SAME_LOWER", 2, 4, 7, 7, 8,
                Window.of(2, 2).withAutoPad(Window.AutoPad.SAME_LOWER), 1, true, none));
        cases.add(conv("3x3 auto_pad VALID", 2, 4, 7, 7, 8,
                Window.square(3, 1, 0).withAutoPad(Window.AutoPad.VALID), 1, true, none));
        cases.add(conv("3x3 groups 2", 2, 8, 8, 8, 12, Window.square(3, 1, 1), 2, true, none));
        cases.add(conv("3x3 groups 4 across blocks", 2, 32, 6, 6, 32, Window.square(3, 1, 1), 4, true, none));
        cases.add(conv("1x1 groups 3", 2, 24, 5, 5, 18, Window.of(1, 1), 3, true, none));
        cases.add(conv("depthwise 3x3 s1 p1", 2, 24, 9, 9, 24, Window.square(3, 1, 1), 24, true, none));
        cases.add(conv("depthwise 3x3 s2 p1", 2, 32, 10, 10, 32, Window.square(3, 2, 1), 32, false, none));
        cases.add(conv("depthwise 5x5 s1 p2", 2, 20, 9, 9, 20, Window.square(5, 1, 2), 20, true, none));
        cases.add(conv("depthwise 5x5 s2 p2", 1, 18, 11, 11, 18, Window.square(5, 2, 2), 18, true, none));
        cases.add(conv("depthwise multiplier 2", 2, 8, 7, 7, 16, Window.square(3, 1, 1), 8, true, none));
        for (ActivationFunction f : activationFunctions()) {
            cases.add(conv("3x3 then " + f, 2, 8, 8, 8, 20, Window.square(3, 1, 1), 1, true,
                    List.of(new PostOp.Activate(f))));
        }
        cases.add(conv("3x3 then residual", 2, 8, 8, 8, 16, Window.square(3, 1, 1), 1, true,
                List.of(new PostOp.AddResidual())));
        // With a bias: Conv requires input 2 whenever it has a residual input 3.
        cases.add(conv("3x3 then residual then Relu", 2, 8, 8, 8, 20, Window.square(3, 1, 1), 1, true,
                List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))));
        cases.add(conv("1x1 then Relu6 then residual then SiLU", 2, 24, 6, 6, 24, Window.of(1, 1), 1, true,
                List.of(new PostOp.Activate(ActivationFunction.RELU6), new PostOp.AddResidual(),
                        new PostOp.Activate(ActivationFunction.SILU))));
        cases.add(conv("depthwise 3x3 then Relu6", 2, 24, 8, 8, 24, Window.square(3, 1, 1), 24, true,
                List.of(new PostOp.Activate(ActivationFunction.RELU6))));
        // Sizes a backend may run in another form: onednn's Winograd F(2x2, 3x3) takes 16 channels
        // and 25 tiles (odd sizes: partial tiles), its swish by Kiln's kernel 16,384 output values.
        cases.add(conv("3x3 Winograd-sized then residual then Relu", 2, 16, 11, 9, 24, Window.square(3, 1, 1), 1,
                true, List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU))));
        cases.add(conv("3x3 large output then SiLU", 2, 8, 24, 24, 16, Window.square(3, 1, 1), 1, true,
                List.of(new PostOp.Activate(ActivationFunction.SILU))));
        return cases;
    }

    private static Case conv(String label, int batch, int channels, int height, int width, int outChannels,
                             Window window, int groups, boolean bias, List<PostOp> postOps) {
        Conv op = new Conv(window, groups, postOps);
        int groupChannels = channels / groups;
        Shape out = new Conv(window, groups).inferShapes(List.of(Shape.of(1, channels, height, width),
                Shape.of(outChannels, groupChannels, window.kernelH(), window.kernelW()))).getFirst();
        String name = "Conv " + label + " x[" + batch + "," + channels + "," + height + "," + width + "] -> "
                + outChannels + (groups > 1 ? " groups " + groups : "") + (bias ? "" : " no bias")
                + (postOps.isEmpty() ? "" : " post-ops " + postOps);
        long reduction = (long) groupChannels * window.kernelH() * window.kernelW();
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, op)
                    .input("x", DYNAMIC, channels, height, width)
                    .constant("w", outChannels, groupChannels, window.kernelH(), window.kernelW());
            if (bias) {
                g.constant("b", outChannels);
            } else if (op.hasResidual()) {
                g.absent();
            }
            if (op.hasResidual()) {
                g.input("residual", DYNAMIC, outChannels, out.dim(2), out.dim(3));
            }
            return g.build();
        }, batch, -1, 1, Tolerance.forReduction(reduction));
    }

    /** Every activation function, with non-default parameters where it has them. */
    private static List<ActivationFunction> activationFunctions() {
        return List.of(ActivationFunction.RELU, ActivationFunction.RELU6, ActivationFunction.clip(-1, 0.5f),
                ActivationFunction.SIGMOID, ActivationFunction.SILU, ActivationFunction.hardSigmoid(0.2f, 0.5f),
                ActivationFunction.HARD_SWISH, ActivationFunction.leakyRelu(0.1f), ActivationFunction.TANH);
    }

    /**
     * Every activation on 4-D and 2-D inputs, over a range that reaches every saturation point;
     * 13 channels leave a partial block at 4, 8 and 16 lanes (20 fill whole blocks of 4).
     */
    public static List<Case> activations() {
        List<Case> cases = new ArrayList<>();
        for (ActivationFunction f : activationFunctions()) {
            for (int[] dims : List.of(new int[] {DYNAMIC, 20, 5, 7}, new int[] {DYNAMIC, 13, 3, 5},
                    new int[] {DYNAMIC, 37})) {
                String name = f + " " + shapeLabel(dims);
                cases.add(new Case(name, () -> {
                    return OneNodeGraph.of(name, new Activation(f)).input("x", dims).build();
                }, 2, -8, 8, Tolerance.forReduction(1)));
            }
        }
        return cases;
    }

    /** Add, Sub, Mul, Div: same shapes, broadcasting both ways, constant operands. */
    public static List<Case> binaries() {
        List<Case> cases = new ArrayList<>();
        cases.add(binary(Binary.ADD, new int[] {DYNAMIC, 20, 6, 5}, new int[] {DYNAMIC, 20, 6, 5}, false));
        cases.add(binary(Binary.ADD, new int[] {DYNAMIC, 20, 6, 5}, new int[] {DYNAMIC, 20, 6, 5}, true));
        cases.add(binary(Binary.ADD, new int[] {DYNAMIC, 8, 4, 4}, new int[] {8, 1, 1}, true));
        cases.add(binary(Binary.ADD, new int[] {DYNAMIC, 1, 4, 1}, new int[] {1, 6, 1, 5}, false));
        cases.add(binary(Binary.MUL, new int[] {DYNAMIC, 24, 5, 5}, new int[] {DYNAMIC, 24, 1, 1}, false));
        cases.add(binary(Binary.MUL, new int[] {DYNAMIC, 12}, new int[] {DYNAMIC, 12}, false));
        cases.add(binary(new Binary(Binary.Kind.SUB), new int[] {DYNAMIC, 3, 4, 5}, new int[] {5}, false));
        cases.add(binary(new Binary(Binary.Kind.MAX), new int[] {DYNAMIC, 6, 4, 4}, new int[] {1}, false));
        cases.add(binary(new Binary(Binary.Kind.MIN), new int[] {DYNAMIC, 6, 4, 4}, new int[] {DYNAMIC, 6, 1, 1}, false));
        cases.add(binary(new Binary(Binary.Kind.SUB), new int[] {3}, new int[] {DYNAMIC, 2, 3}, false));
        cases.add(binary(new Binary(Binary.Kind.DIV), new int[] {DYNAMIC, 7, 3}, new int[] {}, true));
        cases.add(binary(new Binary(Binary.Kind.DIV), new int[] {DYNAMIC, 4, 3, 3}, new int[] {DYNAMIC, 4, 3, 3},
                false));
        return cases;
    }

    private static Case binary(Binary op, int[] a, int[] b, boolean bConstant) {
        int batch = 2;
        // A constant has no symbolic batch: it is made for the batch the case runs at.
        int[] constantDims = Arrays.stream(b).map(d -> d == DYNAMIC ? batch : d).toArray();
        String name = op.type() + " " + shapeLabel(a) + " " + (bConstant ? "constant " + shapeLabel(constantDims)
                : shapeLabel(b));
        boolean divide = op.kind() == Binary.Kind.DIV;
        // Division inputs stay in [0.5, 2): a denominator near zero would make the case about
        // the conditioning of 1/x, not about the kernel.
        float min = divide ? 0.5f : -1, max = divide ? 2 : 1;
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, op).input("a", a);
            return (bConstant ? g.constant("b", min, max, constantDims) : g.input("b", b)).build();
        }, batch, min, max, Tolerance.forReduction(1));
    }

    /** Max, average and global pooling, with padding, ceil mode and both count_include_pad settings. */
    public static List<Case> pools() {
        List<Case> cases = new ArrayList<>();
        cases.add(maxPool("2x2 s2", Window.square(2, 2, 0), false, 12, 12));
        cases.add(maxPool("3x3 s2 p1", Window.square(3, 2, 1), false, 11, 11));
        cases.add(maxPool("3x3 s1 p1", Window.square(3, 1, 1), false, 7, 7));
        cases.add(maxPool("3x3 s2 ceil", Window.square(3, 2, 0), true, 10, 10));
        cases.add(maxPool("2x2 s2 ceil odd size", Window.square(2, 2, 0), true, 7, 9));
        cases.add(maxPool("2x3 s1x2 asymmetric pads", Window.of(2, 3).withStrides(1, 2).withPads(0, 1, 1, 0), false,
                6, 9));
        cases.add(maxPool("3x3 dilation 2", Window.square(3, 1, 2).withDilations(2, 2), false, 8, 8));
        cases.add(maxPool("3x3 s2 auto_pad SAME_UPPER", Window.square(3, 2, 0).withAutoPad(Window.AutoPad.SAME_UPPER),
                false, 8, 8));
        for (boolean includePad : new boolean[] {true, false}) {
            cases.add(averagePool("3x3 s1 p1", Window.square(3, 1, 1), false, includePad, 7, 7));
            cases.add(averagePool("3x3 s2 p1 ceil", Window.square(3, 2, 1), true, includePad, 8, 8));
            cases.add(averagePool("2x2 s2 ceil odd size", Window.square(2, 2, 0), true, includePad, 7, 7));
            cases.add(averagePool("3x2 asymmetric pads", Window.of(3, 2).withPads(1, 0, 0, 1), false, includePad,
                    6, 6));
        }
        cases.add(averagePool("2x2 s2", Window.square(2, 2, 0), false, false, 8, 8));
        cases.add(averagePool("7x7 s1", Window.square(7, 1, 0), false, false, 7, 7));
        for (GlobalPool op : List.of(GlobalPool.AVERAGE, GlobalPool.MAX)) {
            for (int[] dims : List.of(new int[] {DYNAMIC, 24, 7, 7}, new int[] {DYNAMIC, 5, 9})) {
                String name = op.type() + " " + shapeLabel(dims);
                long spatial = Arrays.stream(dims, 2, dims.length).asLongStream().reduce(1, (p, d) -> p * d);
                cases.add(new Case(name, () -> {
                    return OneNodeGraph.of(name, op).input("x", dims).build();
                }, 2, -1, 1, Tolerance.forReduction(spatial)));
            }
        }
        return cases;
    }

    private static Case maxPool(String label, Window window, boolean ceil, int height, int width) {
        String name = "MaxPool " + label + " x[2,12," + height + "," + width + "]";
        return new Case(name, () -> {
            return OneNodeGraph.of(name, new MaxPool(window, ceil)).input("x", DYNAMIC, 12, height, width).build();
        }, 2, -1, 1, Tolerance.forReduction(1));
    }

    private static Case averagePool(String label, Window window, boolean ceil, boolean countIncludePad, int height,
                                    int width) {
        String name = "AveragePool " + label + (countIncludePad ? " count_include_pad" : " exclude pad") + " x[2,12,"
                + height + "," + width + "]";
        return new Case(name, () -> {
            return OneNodeGraph.of(name, new AveragePool(window, ceil, countIncludePad))
                    .input("x", DYNAMIC, 12, height, width).build();
        }, 2, -1, 1, Tolerance.forReduction((long) window.kernelH() * window.kernelW()));
    }

    /** Batch-norm (4-D and 2-D) and local response normalisation. */
    public static List<Case> normalizations() {
        List<Case> cases = new ArrayList<>();
        for (int[] dims : List.of(new int[] {DYNAMIC, 20, 5, 5}, new int[] {DYNAMIC, 12})) {
            for (float epsilon : new float[] {BatchNormalization.DEFAULT_EPSILON, 1e-3f}) {
                String name = "BatchNormalization eps " + epsilon + " " + shapeLabel(dims);
                int channels = dims[1];
                cases.add(new Case(name, () -> {
                    return OneNodeGraph.of(name, new BatchNormalization(epsilon)).input("x", dims)
                            .constant("scale", 0.5f, 1.5f, channels).constant("bias", -0.5f, 0.5f, channels)
                            .constant("mean", -0.3f, 0.3f, channels).constant("var", 0.5f, 2f, channels).build();
                }, 2, -1, 1, Tolerance.forReduction(1)));
            }
        }
        cases.add(lrn(new Lrn(5, 1e-4f, 0.75f, 1f), new int[] {DYNAMIC, 24, 4, 4}));
        // A large alpha and an even size make the normalisation and its asymmetric window matter.
        cases.add(lrn(new Lrn(4, 0.5f, 0.75f, 2f), new int[] {DYNAMIC, 20, 3, 5}));
        cases.add(lrn(new Lrn(3, 1f, 0.5f, 1f), new int[] {DYNAMIC, 7, 6}));
        return cases;
    }

    private static Case lrn(Lrn op, int[] dims) {
        String name = "LRN size " + op.size() + " alpha " + op.alpha() + " beta " + op.beta() + " bias " + op.bias()
                + " " + shapeLabel(dims);
        return new Case(name, () -> {
            return OneNodeGraph.of(name, op).input("x", dims).build();
        }, 2, -2, 2, Tolerance.forReduction(op.size()));
    }

    /** Gemm (transposes, alpha and beta, bias shapes, fused activations) and MatMul (batch broadcasting, 1-D operands). */
    public static List<Case> matrixProducts() {
        List<Case> cases = new ArrayList<>();
        cases.add(gemm("fully connected", Gemm.FULLY_CONNECTED, new int[] {DYNAMIC, 300}, new int[] {40, 300},
                new int[] {40}, 300));
        cases.add(gemm("plain, bias row", new Gemm(1, 1, false, false), new int[] {DYNAMIC, 30}, new int[] {30, 20},
                new int[] {1, 20}, 30));
        cases.add(gemm("transA, alpha 0.5 beta 2, full bias", new Gemm(0.5f, 2, true, false), new int[] {25, 3},
                new int[] {25, 11}, new int[] {3, 11}, 25));
        cases.add(gemm("transA transB, bias column", new Gemm(1, 1, true, true), new int[] {17, 4},
                new int[] {9, 17}, new int[] {4, 1}, 17));
        cases.add(gemm("scalar bias", new Gemm(1, -1, false, true), new int[] {DYNAMIC, 16}, new int[] {8, 16},
                new int[] {}, 16));
        cases.add(gemm("no bias", Gemm.FULLY_CONNECTED, new int[] {DYNAMIC, 64}, new int[] {10, 64}, null, 64));
        cases.add(gemm("fused Relu", Gemm.FULLY_CONNECTED.withPostOps(List.of(new PostOp.Activate(ActivationFunction.RELU))),
                new int[] {DYNAMIC, 70}, new int[] {37, 70}, new int[] {37}, 70));
        cases.add(gemm("fused Clip then SiLU", Gemm.FULLY_CONNECTED.withPostOps(List.of(
                        new PostOp.Activate(ActivationFunction.clip(-1, 1)), new PostOp.Activate(ActivationFunction.SILU))),
                new int[] {DYNAMIC, 20}, new int[] {9, 20}, null, 20));
        cases.add(matMul(new int[] {DYNAMIC, 4, 5}, new int[] {5, 3}, true, 5));
        cases.add(matMul(new int[] {2, 1, 3, 4}, new int[] {5, 4, 6}, false, 4));
        cases.add(matMul(new int[] {4}, new int[] {DYNAMIC, 4, 3}, false, 4));
        cases.add(matMul(new int[] {DYNAMIC, 3, 6}, new int[] {6}, false, 6));
        cases.add(matMul(new int[] {DYNAMIC, 7, 32}, new int[] {DYNAMIC, 32, 5}, false, 32));
        return cases;
    }

    private static Case gemm(String label, Gemm op, int[] a, int[] b, int[] c, long depth) {
        String name = "Gemm " + label + " A" + shapeLabel(a) + " B" + shapeLabel(b)
                + (c == null ? "" : " C" + shapeLabel(c));
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, op).input("a", a).constant("b", b);
            return (c == null ? g : g.constant("c", c)).build();
        }, 2, -1, 1, Tolerance.forReduction(depth));
    }

    private static Case matMul(int[] a, int[] b, boolean bConstant, long depth) {
        String name = "MatMul " + shapeLabel(a) + " x " + (bConstant ? "constant " : "") + shapeLabel(b);
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, new MatMul()).input("a", a);
            return (bConstant ? g.constant("b", b) : g.input("b", b)).build();
        }, 2, -1, 1, Tolerance.forReduction(depth));
    }

    /** Softmax, Concat, Flatten, Reshape, Pad, Transpose, Identity and Dropout. */
    public static List<Case> dataMovement() {
        List<Case> cases = new ArrayList<>();
        cases.add(softmax(new Softmax(1), new int[] {DYNAMIC, 10}, 10));
        cases.add(softmax(new Softmax(-1), new int[] {DYNAMIC, 3, 4, 5}, 5));
        cases.add(softmax(new Softmax(1), new int[] {DYNAMIC, 6, 3, 3}, 6));
        cases.add(softmax(new Softmax(0), new int[] {DYNAMIC, 4}, 2));
        cases.add(softmax(new Softmax(1, true), new int[] {DYNAMIC, 3, 4}, 12));
        cases.add(concat(1, new int[] {DYNAMIC, 3, 4, 4}, new int[] {DYNAMIC, 5, 4, 4}, new int[] {DYNAMIC, 17, 4, 4}));
        cases.add(concat(0, new int[] {DYNAMIC, 3, 2}, new int[] {DYNAMIC, 3, 2}));
        cases.add(concat(-1, new int[] {DYNAMIC, 2, 3, 2}, new int[] {DYNAMIC, 2, 3, 5}));
        cases.add(concat(2, new int[] {DYNAMIC, 4, 1, 3}, new int[] {DYNAMIC, 4, 6, 3}));
        cases.add(concat(1, new int[] {DYNAMIC, 6, 2, 2}));
        for (int axis : new int[] {1, 2, 0, 4}) {
            cases.add(shapeOnly(new Flatten(axis), "Flatten axis " + axis, new int[] {DYNAMIC, 3, 4, 5}));
        }
        cases.add(shapeOnly(new Reshape(0, -1), "Reshape [0, -1]", new int[] {DYNAMIC, 3, 4, 5}));
        cases.add(shapeOnly(new Reshape(0, 2, -1, 3), "Reshape [0, 2, -1, 3]", new int[] {DYNAMIC, 4, 3, 3}));
        cases.add(shapeOnly(new Pad(new int[] {0, 0, 1, 2, 0, 0, 3, 0}, 0.5f), "Pad H 1+3 W 2+0 value 0.5",
                new int[] {DYNAMIC, 3, 4, 5}));
        cases.add(shapeOnly(new Pad(new int[] {0, 2, 0, 1}, 0), "Pad channels 2+1", new int[] {DYNAMIC, 6}));
        cases.add(shapeOnly(new Transpose(new int[] {0, 2, 3, 1}), "Transpose NCHW to NHWC", new int[] {DYNAMIC, 3, 4, 5}));
        cases.add(shapeOnly(new Transpose(new int[] {1, 0}), "Transpose 2-D", new int[] {DYNAMIC, 7}));
        cases.add(shapeOnly(new Transpose(new int[0]), "Transpose reversed", new int[] {DYNAMIC, 2, 3}));
        cases.add(shapeOnly(Passthrough.IDENTITY, "Identity", new int[] {DYNAMIC, 5, 3, 3}));
        cases.add(shapeOnly(Passthrough.DROPOUT, "Dropout", new int[] {DYNAMIC, 40}));
        return cases;
    }

    private static Case softmax(Softmax op, int[] dims, long length) {
        String name = "Softmax axis " + op.axis() + (op.coerceTo2d() ? " coerced to 2-D" : "") + " "
                + shapeLabel(dims);
        return new Case(name, () -> {
            return OneNodeGraph.of(name, op).input("x", dims).build();
        }, 2, -4, 4, Tolerance.forReduction(length));
    }

    private static Case concat(int axis, int[]... inputs) {
        String name = "Concat axis " + axis + " " + Arrays.stream(inputs).map(OpCases::shapeLabel)
                .collect(Collectors.joining(" "));
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, new Concat(axis));
            for (int i = 0; i < inputs.length; i++) {
                g.input("x" + i, inputs[i]);
            }
            return g.build();
        }, 2, -1, 1, Tolerance.forReduction(1));
    }

    private static Case shapeOnly(Op op, String label, int[] dims) {
        String name = label + " " + shapeLabel(dims);
        return new Case(name, () -> {
            return OneNodeGraph.of(name, op).input("x", dims).build();
        }, 2, -1, 1, Tolerance.forReduction(1));
    }

    /** The fused squeeze-and-excitation block: EfficientNet's form, MobileNet v3's form, and without biases. */
    public static List<Case> squeezeExcitations() {
        List<Case> cases = new ArrayList<>();
        cases.add(squeezeExcitation(new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID),
                24, 6, 7, 7, true, true));
        cases.add(squeezeExcitation(new SqueezeExcitation(ActivationFunction.RELU,
                ActivationFunction.hardSigmoid(1f / 6, 0.5f)), 20, 8, 5, 5, true, true));
        cases.add(squeezeExcitation(new SqueezeExcitation(ActivationFunction.SILU, ActivationFunction.SIGMOID),
                17, 4, 3, 6, false, true));
        cases.add(squeezeExcitation(new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID),
                16, 4, 4, 4, true, false));
        return cases;
    }

    private static Case squeezeExcitation(SqueezeExcitation op, int channels, int reduced, int height, int width,
                                          boolean squeezeBias, boolean excitationBias) {
        String name = "SqueezeExcitation " + op.squeezeActivation() + " gate " + op.gateActivation() + " x[2,"
                + channels + "," + height + "," + width + "] squeeze " + reduced
                + (squeezeBias ? "" : " no squeeze bias") + (excitationBias ? "" : " no excitation bias");
        // Three reductions in a row (the spatial mean, then over C, then over R); each adds its
        // own error, and sqrt(a + b + c) is within a factor sqrt(3) of sqrt(a) + sqrt(b) + sqrt(c).
        long reduction = (long) height * width + channels + reduced;
        return new Case(name, () -> {
            OneNodeGraph g = OneNodeGraph.of(name, op).input("x", DYNAMIC, channels, height, width)
                    .constant("w1", reduced, channels, 1, 1).constant("w2", channels, reduced, 1, 1);
            if (squeezeBias) {
                g.constant("b1", reduced);
            } else if (excitationBias) {
                g.absent();
            }
            if (excitationBias) {
                g.constant("b2", channels);
            }
            return g.build();
        }, 2, -0.5f, 1.5f, Tolerance.forReduction(reduction)); // channel means away from zero: the gate varies
    }

    /** {@code [N,3,4]} for a declared shape with a symbolic batch. */
    private static String shapeLabel(int[] dims) {
        return Arrays.stream(dims).mapToObj(d -> d == DYNAMIC ? "N" : Integer.toString(d))
                .collect(Collectors.joining(",", "[", "]"));
    }
}
