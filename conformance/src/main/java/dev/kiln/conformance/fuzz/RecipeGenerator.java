package dev.kiln.conformance.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Draws random valid graphs from a seed, in the manner of NNSmith: each step picks a block (one
 * op, or a pattern the optimizer rewrites) that fits the shape of a value already computed, with
 * the attribute ranges real networks use and their edges (odd sizes, strides 1 to 3, dilations,
 * groups and depthwise, asymmetric and automatic pads, ceil mode, channels that are no multiple
 * of a vector width, batches above 1), and checks it with {@link RecipeMaterializer}'s shape
 * rules, so every recipe it returns is a valid graph. The patterns (convolution with
 * batch-norm and activations, residual adds, squeeze-excitation, Pad before a convolution,
 * Gemm after Flatten, SiLU written as x * Sigmoid(x)) come often enough that every fusion fires
 * within a few dozen graphs. Every ONNX op the importer converts appears.
 */
public final class RecipeGenerator {
    private static final int[] CHANNELS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 20, 24};
    private static final int MAX_ELEMENTS = 40_000;

    private final SplittableRandom random;
    private final int maxNodes;
    private final List<FuzzNode> nodes = new ArrayList<>();
    private int[] input;

    private RecipeGenerator(long seed, int maxNodes) {
        this.random = new SplittableRandom(seed);
        this.maxNodes = maxNodes;
    }

    /**
     * The recipe of case {@code index} of a run seeded with {@code seed}: the same pair always gives
     * the same recipe.
     */
    public static GraphRecipe generate(long seed, long index, int maxNodes) {
        if (maxNodes < 1) {
            throw new IllegalArgumentException("a graph has at least one node, asked for at most " + maxNodes);
        }
        return new RecipeGenerator(seed * 0x9E3779B97F4A7C15L + index, maxNodes).build();
    }

    private GraphRecipe build() {
        int batch = pickInt(1, 1, 1, 1, 2, 3);
        input = new int[] {batch, CHANNELS[random.nextInt(CHANNELS.length)], 3 + random.nextInt(17),
                3 + random.nextInt(17)};
        int target = 1 + random.nextInt(maxNodes);
        int attempts = 0;
        while (nodes.size() < target && attempts++ < 200) {
            List<RecipeMaterializer.Value> values = shapes();
            int from = chooseValue(values);
            int mark = nodes.size();
            try {
                block(from, values.get(from).dims(), values);
                if (nodes.size() > maxNodes) {
                    throw new InvalidRecipeException("too many nodes");
                }
                List<RecipeMaterializer.Value> after = shapes();
                for (RecipeMaterializer.Value v : after) {
                    if (elements(v.dims()) > MAX_ELEMENTS * (long) batch) {
                        throw new InvalidRecipeException("too large");
                    }
                }
            } catch (InvalidRecipeException e) {
                nodes.subList(mark, nodes.size()).clear();
            }
        }
        if (nodes.isEmpty()) {
            nodes.add(node("Relu", List.of(0), 0, Map.of()));
        }
        return new GraphRecipe(input, nodes, random.nextLong());
    }

    private List<RecipeMaterializer.Value> shapes() {
        GraphRecipe r = new GraphRecipe(input, nodes, 0);
        if (nodes.isEmpty()) {
            return List.of(new RecipeMaterializer.Value(input, null));
        }
        return RecipeMaterializer.shapes(r);
    }

    /** Mostly the newest float value (chains, as networks are), sometimes an older one (branches). */
    private int chooseValue(List<RecipeMaterializer.Value> values) {
        for (int tries = 0; tries < 20; tries++) {
            int v = random.nextInt(4) == 0 ? random.nextInt(values.size()) : values.size() - 1;
            if (!values.get(v).isInts() && values.get(v).rank() >= 2) {
                return v;
            }
        }
        return 0;
    }

    // ---- blocks ----

    private void block(int x, int[] dims, List<RecipeMaterializer.Value> values) {
        if (dims.length == 4) {
            int roll = random.nextInt(100);
            if (roll < 22) {
                convBlock(x, dims);
            } else if (roll < 34) {
                residualBlock(x, dims);
            } else if (roll < 40) {
                squeezeExcitation(x, dims);
            } else if (roll < 49) {
                pool(x);
            } else if (roll < 52) {
                add(node(pick("GlobalAveragePool", "GlobalMaxPool"), List.of(x), 0, Map.of()));
            } else if (roll < 60) {
                activation(x);
            } else if (roll < 68) {
                binary(x, dims, values);
            } else if (roll < 73) {
                concat(x, dims, values);
            } else if (roll < 76) {
                add(node("BatchNormalization", List.of(x), 0, Map.of("epsilon", 1e-5f)));
            } else if (roll < 79) {
                add(node("LRN", List.of(x), 0, Map.of("size", (long) pickInt(1, 2, 3, 5), "alpha", 1e-3f, "beta", 0.75f,
                        "bias", pick(1f, 2f))));
            } else if (roll < 82) {
                String noOp = pick("Identity", "Dropout", "Cast");
                add(node(noOp, List.of(x), 0, noOp.equals("Cast") ? Map.of("to", 1L) : Map.of()));
            } else if (roll < 84) {
                add(node("Transpose", List.of(x), 0, Map.of("perm", pickArray(new long[] {0, 1, 3, 2},
                        new long[] {0, 2, 3, 1}, new long[] {1, 0, 2, 3}))));
            } else if (roll < 86) {
                add(node("Softmax", List.of(x), 0, Map.of("axis", (long) pickInt(1, -1, 3))));
            } else {
                head(x, dims);
            }
        } else {
            int roll = random.nextInt(100);
            if (roll < 35) {
                gemm(x);
            } else if (roll < 45) {
                add(node("MatMul", List.of(x), width(), Map.of()));
            } else if (roll < 65) {
                activation(x);
            } else if (roll < 75) {
                add(node("Softmax", List.of(x), 0, Map.of("axis", (long) pickInt(1, -1))));
            } else if (roll < 87) {
                binary(x, dims, values);
            } else {
                add(node("Unsqueeze", List.of(x), 0, Map.of("_axes", new long[] {2, 3})));
            }
        }
    }

    /** [Pad] Conv [BatchNormalization] [activation]: the optimizer folds and fuses all of it. */
    private void convBlock(int x, int[] dims) {
        int in = x;
        if (random.nextInt(6) == 0) {
            long t = random.nextInt(3);
            long l = random.nextInt(3);
            in = add(node("Pad", List.of(in), 0, Map.of("_pads", new long[] {0, 0, t, l, 0, 0, random.nextInt(3),
                    random.nextInt(3)}, "_value", random.nextInt(5) == 0 ? 0.5f : 0f)));
        }
        in = add(conv(in, dims[1], width(), false));
        if (random.nextInt(3) == 0) {
            in = add(node("BatchNormalization", List.of(in), 0, Map.of("epsilon", pick(1e-5f, 1e-3f))));
        }
        if (random.nextInt(5) < 3) {
            activation(in);
        }
    }

    /** y = act(conv(x) + x) with the shape kept (ResNet, inverted residuals); sometimes no activation. */
    private void residualBlock(int x, int[] dims) {
        int c = dims[1];
        Map<String, Object> a = new TreeMap<>();
        long k = pickInt(1, 3, 3, 5);
        a.put("kernel_shape", new long[] {k, k});
        a.put("pads", new long[] {k / 2, k / 2, k / 2, k / 2});
        if (random.nextInt(3) == 0) {
            a.put("_depthwise", 1L);
        }
        a.put("_bias", random.nextInt(4) == 0 ? 0L : 1L);
        int conv = add(node("Conv", List.of(x), c, a));
        if (random.nextInt(3) == 0) {
            conv = add(node("BatchNormalization", List.of(conv), 0, Map.of("epsilon", 1e-5f)));
        }
        int sum = add(node("Add", random.nextBoolean() ? List.of(conv, x) : List.of(x, conv), 0, Map.of()));
        if (random.nextInt(10) < 7) {
            add(node(pick("Relu", "Relu", "Clip"), List.of(sum), 0, Map.of("_min", 0f, "_max", 6f)));
        }
    }

    /** Global average pool, 1x1 squeeze with ReLU or SiLU, 1x1 excite with a sigmoid, multiply (EfficientNet). */
    private void squeezeExcitation(int x, int[] dims) {
        int c = dims[1];
        int squeezed = Math.max(1, c / pickInt(2, 4));
        int p = add(node("GlobalAveragePool", List.of(x), 0, Map.of()));
        int s = add(node("Conv", List.of(p), squeezed, Map.of("kernel_shape", new long[] {1, 1})));
        if (random.nextBoolean()) {
            s = add(node("Relu", List.of(s), 0, Map.of()));
        } else {
            s = silu(s);
        }
        int e = add(node("Conv", List.of(s), c, Map.of("kernel_shape", new long[] {1, 1})));
        int g = random.nextBoolean() ? add(node("Sigmoid", List.of(e), 0, Map.of()))
                : add(node("HardSigmoid", List.of(e), 0, Map.of("alpha", 0.2f, "beta", 0.5f)));
        add(node("Mul", random.nextBoolean() ? List.of(x, g) : List.of(g, x), 0, Map.of()));
    }

    private FuzzNode conv(int x, int channels, int width, boolean pointwise) {
        Map<String, Object> a = new TreeMap<>();
        long kh = pointwise ? 1 : pickInt(1, 1, 2, 3, 3, 3, 5, 7);
        long kw = random.nextInt(6) == 0 ? pickInt(1, 3, 5) : kh;
        a.put("kernel_shape", new long[] {kh, kw});
        long s = pickInt(1, 1, 1, 2, 2, 3);
        a.put("strides", random.nextInt(8) == 0 ? new long[] {s, pickInt(1, 2)} : new long[] {s, s});
        if (random.nextInt(6) == 0) {
            a.put("dilations", new long[] {pickInt(1, 2), pickInt(1, 2, 3)});
        }
        int padKind = random.nextInt(10);
        if (padKind < 6) {
            a.put("pads", new long[] {kh / 2, kw / 2, kh / 2, kw / 2});
        } else if (padKind < 8) {
            a.put("pads", new long[] {random.nextInt((int) kh), random.nextInt((int) kw), random.nextInt((int) kh),
                    random.nextInt((int) kw)});
        } else {
            a.put("auto_pad", pick("SAME_UPPER", "SAME_LOWER", "VALID"));
        }
        int groupKind = random.nextInt(10);
        if (groupKind < 3) {
            a.put("_depthwise", 1L);
            a.put("_multiplier", (long) pickInt(1, 1, 1, 2));
        } else if (groupKind < 4) {
            int g = pickInt(2, 3, 4);
            if (channels % g == 0) {
                a.put("group", (long) g);
                width = g * Math.max(1, width / g);
            }
        }
        a.put("_bias", random.nextInt(5) == 0 ? 0L : 1L);
        return node("Conv", List.of(x), width, a);
    }

    private void pool(int x) {
        Map<String, Object> a = new TreeMap<>();
        String op = pick("MaxPool", "AveragePool");
        long k = pickInt(2, 3, 3, 5);
        long kw = random.nextInt(6) == 0 ? pickInt(2, 3) : k;
        a.put("kernel_shape", new long[] {k, kw});
        long s = pickInt(1, 2, 2, 3);
        a.put("strides", new long[] {s, s});
        int padKind = random.nextInt(4);
        if (padKind < 2) {
            a.put("pads", new long[] {random.nextInt((int) k), random.nextInt((int) kw), random.nextInt((int) k),
                    random.nextInt((int) kw)});
        } else if (padKind == 2) {
            a.put("auto_pad", pick("SAME_UPPER", "VALID"));
        }
        if (random.nextInt(3) == 0) {
            a.put("ceil_mode", 1L);
        }
        if (op.equals("AveragePool")) {
            a.put("count_include_pad", (long) random.nextInt(2));
        } else if (random.nextInt(6) == 0) {
            a.put("dilations", new long[] {2, 2});
        }
        add(node(op, List.of(x), 0, a));
    }

    private void activation(int x) {
        switch (random.nextInt(11)) {
            case 0, 1 -> add(node("Relu", List.of(x), 0, Map.of()));
            case 2 -> add(node("Sigmoid", List.of(x), 0, Map.of()));
            case 3 -> add(node("Tanh", List.of(x), 0, Map.of()));
            case 4 -> add(node("HardSwish", List.of(x), 0, Map.of()));
            case 5 -> add(node("LeakyRelu", List.of(x), 0, Map.of("alpha", pick(0.01f, 0.1f, 0.2f))));
            case 6 -> add(node("HardSigmoid", List.of(x), 0, Map.of("alpha", pick(0.2f, 1f / 6), "beta", 0.5f)));
            case 7 -> add(node("Clip", List.of(x), 0, Map.of("_min", 0f, "_max", 6f)));
            case 8 -> {
                if (random.nextBoolean()) {
                    add(node("Clip", List.of(x), 0, Map.of("_min", pick(-1f, -0.5f), "_max", pick(0.5f, 1f))));
                } else {
                    int lo = add(node("Constant", List.of(), 0, Map.of("value_float", -0.5f)));
                    int hi = add(node("Constant", List.of(), 0, Map.of("value_float", 0.75f)));
                    add(node("Clip", List.of(x, lo, hi), 0, Map.of()));
                }
            }
            default -> silu(x);
        }
    }

    /** SiLU as PyTorch exports it: x * Sigmoid(x), either operand order. */
    private int silu(int x) {
        int s = add(node("Sigmoid", List.of(x), 0, Map.of()));
        return add(node("Mul", random.nextBoolean() ? List.of(x, s) : List.of(s, x), 0, Map.of()));
    }

    private void binary(int x, int[] dims, List<RecipeMaterializer.Value> values) {
        String op = pick("Add", "Add", "Sub", "Mul", "Mul", "Div", "Max", "Min");
        List<Integer> same = new ArrayList<>();
        for (int v = 0; v < values.size(); v++) {
            if (v != x && !values.get(v).isInts() && java.util.Arrays.equals(values.get(v).dims(), dims)) {
                same.add(v);
            }
        }
        if (!same.isEmpty() && !op.equals("Div") && random.nextBoolean()) {
            int other = same.get(random.nextInt(same.size()));
            add(node(op, random.nextBoolean() ? List.of(x, other) : List.of(other, x), 0, Map.of()));
            return;
        }
        String operand = pick("channel", "channel", "plane", "scalar", "full");
        add(node(op, List.of(x), 0, Map.of("_operand", operand, "_constantFirst", (long) random.nextInt(2))));
    }

    private void concat(int x, int[] dims, List<RecipeMaterializer.Value> values) {
        List<Integer> inputs = new ArrayList<>(List.of(x));
        for (int v = 0; v < values.size() && inputs.size() < 3; v++) {
            int[] d = values.get(v).dims();
            if (v != x && !values.get(v).isInts() && d.length == 4 && d[0] == dims[0] && d[2] == dims[2]
                    && d[3] == dims[3] && random.nextBoolean()) {
                inputs.add(v);
            }
        }
        if (inputs.size() == 1) {
            inputs.add(add(conv(x, dims[1], width(), true)));
        }
        java.util.Collections.shuffle(inputs, new java.util.Random(random.nextLong()));
        add(node("Concat", inputs, 0, Map.of("axis", 1L)));
    }

    /** From NCHW to [N, F], the ways exporters write it, then a Gemm (the classifier of VGG and GoogLeNet). */
    private void head(int x, int[] dims) {
        int flat;
        switch (random.nextInt(5)) {
            case 0 -> flat = add(node("Flatten", List.of(x), 0, Map.of("axis", 1L)));
            case 1 -> flat = add(node("Reshape", List.of(x), 0, Map.of("_shape", pickArray(new long[] {0, -1},
                    new long[] {dims[0], -1}))));
            case 2 -> {
                // PyTorch's x.view(x.size(0), -1) with a symbolic batch: Shape, Gather, Unsqueeze, Concat.
                int shape = add(node("Shape", List.of(x), 0, Map.of()));
                if (random.nextBoolean()) {
                    shape = add(node("Cast", List.of(shape), 0, Map.of("to", 7L)));
                }
                int n = add(node("Gather", List.of(shape), 0, Map.of("_index", 0L, "axis", 0L)));
                int n1 = add(node("Unsqueeze", List.of(n), 0, Map.of("_axes", new long[] {0})));
                int rest = add(node("Constant", List.of(), 0, Map.of("value_ints", new long[] {-1})));
                int target = add(node("Concat", List.of(n1, rest), 0, Map.of("axis", 0L)));
                flat = add(node("Reshape", List.of(x, target), 0, Map.of()));
            }
            default -> {
                int pooled = add(node(pick("GlobalAveragePool", "GlobalMaxPool"), List.of(x), 0, Map.of()));
                flat = random.nextBoolean() ? add(node("Squeeze", List.of(pooled), 0, Map.of("_axes", new long[] {2, 3})))
                        : add(node("Flatten", List.of(pooled), 0, Map.of("axis", 1L)));
            }
        }
        gemm(flat);
    }

    private void gemm(int x) {
        Map<String, Object> a = new TreeMap<>();
        a.put("transB", (long) pickInt(0, 1, 1));
        if (random.nextInt(6) == 0) {
            a.put("alpha", pick(0.5f, 2f));
            a.put("beta", pick(0.5f, 1.5f));
        }
        a.put("_bias", pick("row", "row", "matrix", "none"));
        int y = add(node("Gemm", List.of(x), width(), a));
        if (random.nextBoolean()) {
            activation(y);
        }
    }

    // ---- helpers ----

    private int width() {
        return CHANNELS[random.nextInt(CHANNELS.length)];
    }

    private FuzzNode node(String op, List<Integer> inputs, int width, Map<String, Object> attributes) {
        return new FuzzNode(op, inputs, width, attributes, random.nextLong());
    }

    /** Appends a node; returns the value it writes. */
    private int add(FuzzNode n) {
        nodes.add(n);
        return nodes.size();
    }

    @SafeVarargs
    private <T> T pick(T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private int pickInt(int... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private long[] pickArray(long[]... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static long elements(int[] dims) {
        long p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }
}
