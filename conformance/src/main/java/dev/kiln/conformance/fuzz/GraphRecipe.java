package dev.kiln.conformance.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A generated graph before it is an ONNX model: the input's shape, the nodes in order, and the
 * seed of the input's values. What the shrinker edits (it drops nodes, narrows widths, shrinks the
 * input), what a worker JVM receives (as one line of text, {@link #toLine()}), and what
 * {@link RecipeMaterializer} turns into a model file and its inputs.
 *
 * @param input     the graph input's shape, NCHW
 * @param nodes     the nodes; node k writes value k + 1, value 0 being the input
 * @param inputSeed where the input's values come from
 */
public record GraphRecipe(int[] input, List<FuzzNode> nodes, long inputSeed) {
    private static final String MAGIC = "kiln-fuzz-recipe-1";

    public GraphRecipe {
        input = input.clone();
        nodes = List.copyOf(nodes);
    }

    @Override
    public int[] input() {
        return input.clone();
    }

    public GraphRecipe withNodes(List<FuzzNode> newNodes) {
        return new GraphRecipe(input, newNodes, inputSeed);
    }

    public GraphRecipe withInput(int[] dims) {
        return new GraphRecipe(dims, nodes, inputSeed);
    }

    /** The recipe as one line of text, which {@link #parse} reads back exactly. */
    public String toLine() {
        StringBuilder s = new StringBuilder(MAGIC).append(" input=").append(join(input)).append(" seed=")
                .append(inputSeed);
        for (FuzzNode n : nodes) {
            s.append(" | ").append(n.op()).append(" in=");
            s.append(String.join(",", n.inputs().stream().map(String::valueOf).toList()));
            s.append(" w=").append(n.width()).append(" seed=").append(n.seed());
            n.attributes().forEach((k, v) -> s.append(' ').append(k).append('=').append(encode(v)));
        }
        return s.toString();
    }

    /**
     * Reads {@link #toLine()}'s text.
     *
     * @throws IllegalArgumentException naming the part that is not a recipe
     */
    public static GraphRecipe parse(String line) {
        String[] parts = line.trim().split(" \\| ");
        String[] head = parts[0].split(" ");
        if (head.length != 3 || !head[0].equals(MAGIC) || !head[1].startsWith("input=") || !head[2].startsWith("seed=")) {
            throw new IllegalArgumentException("not a fuzz recipe (expected '" + MAGIC + " input=N,C,H,W seed=S'): '"
                    + parts[0] + "'");
        }
        int[] input = Arrays.stream(head[1].substring(6).split(",")).mapToInt(Integer::parseInt).toArray();
        long seed = Long.parseLong(head[2].substring(5));
        List<FuzzNode> nodes = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            nodes.add(parseNode(parts[i], i - 1));
        }
        return new GraphRecipe(input, nodes, seed);
    }

    private static FuzzNode parseNode(String text, int index) {
        String[] fields = text.split(" ");
        try {
            String op = fields[0];
            List<Integer> inputs = new ArrayList<>();
            int width = 0;
            long seed = 0;
            Map<String, Object> attributes = new LinkedHashMap<>();
            for (int f = 1; f < fields.length; f++) {
                int eq = fields[f].indexOf('=');
                String key = fields[f].substring(0, eq);
                String value = fields[f].substring(eq + 1);
                switch (key) {
                    case "in" -> Arrays.stream(value.split(",")).filter(v -> !v.isEmpty())
                            .forEach(v -> inputs.add(Integer.parseInt(v)));
                    case "w" -> width = Integer.parseInt(value);
                    case "seed" -> seed = Long.parseLong(value);
                    default -> attributes.put(key, decode(value));
                }
            }
            return new FuzzNode(op, inputs, width, attributes, seed);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("node " + index + " of a fuzz recipe is malformed: '" + text + "' ("
                    + e.getMessage() + ")", e);
        }
    }

    private static String encode(Object v) {
        return switch (v) {
            case Long l -> "i" + l;
            case Float f -> "f" + f;
            case String s -> "s" + s;
            case long[] a -> "I" + Arrays.stream(a).mapToObj(String::valueOf).reduce((x, y) -> x + "," + y).orElse("");
            default -> throw new IllegalArgumentException("attribute values are Long, Float, String or long[], not "
                    + v.getClass().getSimpleName());
        };
    }

    private static Object decode(String s) {
        String body = s.substring(1);
        return switch (s.charAt(0)) {
            case 'i' -> Long.parseLong(body);
            case 'f' -> Float.parseFloat(body);
            case 's' -> body;
            case 'I' -> body.isEmpty() ? new long[0]
                    : Arrays.stream(body.split(",")).mapToLong(Long::parseLong).toArray();
            default -> throw new IllegalArgumentException("unknown attribute kind '" + s.charAt(0) + "'");
        };
    }

    private static String join(int[] dims) {
        return String.join(",", Arrays.stream(dims).mapToObj(String::valueOf).toList());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GraphRecipe r && r.toLine().equals(toLine());
    }

    @Override
    public int hashCode() {
        return toLine().hashCode();
    }

    @Override
    public String toString() {
        return toLine();
    }
}
