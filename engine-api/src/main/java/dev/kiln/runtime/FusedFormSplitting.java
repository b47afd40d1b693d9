package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Splits a fused node that the chosen backend cannot run into smaller ops it can, instead of
 * sending the whole node (and a partition boundary with it) to another backend. The optimizer
 * fuses for every backend alike; a backend that lacks one fused form (a post-op kind, the
 * residual add, squeeze-excitation) still gets the rest. A convolution or Gemm keeps the longest
 * prefix of its epilogue the backend runs, and the remaining post-ops become Activation and Add
 * nodes; squeeze-excitation becomes global pooling, two 1x1 convolutions and a Mul. A node is
 * split only when the backend runs every piece; otherwise it stays whole and falls back.
 *
 * <p>The split graph shares the original's initializers and is never closed: the original owns them.
 */
final class FusedFormSplitting {
    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final Backend backend;
    private final CompileContext context;
    private final Set<String> taken = new HashSet<>();
    private final Map<String, Shape> pieceShapes = new HashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    private Set<String> keepWhole = Set.of();

    /** The graph to place (the original when nothing was split) and, per piece, the fused node it came from. */
    record Result(Graph graph, Map<String, String> notes) {
    }

    private FusedFormSplitting(Graph graph, Map<String, Shape> shapes, Backend backend, CompileContext context) {
        this.graph = graph;
        this.shapes = shapes;
        this.backend = backend;
        this.context = context;
        for (Node n : graph.nodes()) {
            taken.add(n.name());
            taken.addAll(n.outputs());
        }
        taken.addAll(graph.initializers().keySet());
        graph.inputs().forEach(v -> taken.add(v.name()));
    }

    static Result apply(Graph graph, Map<String, Shape> shapes, Backend backend, CompileContext context) {
        return apply(graph, shapes, backend, context, Set.of());
    }

    /** @param keepWhole nodes never split (pinned ones: they run whole on their pinned backend) */
    static Result apply(Graph graph, Map<String, Shape> shapes, Backend backend, CompileContext context,
                        Set<String> keepWhole) {
        FusedFormSplitting s = new FusedFormSplitting(graph, shapes, backend, context);
        s.keepWhole = keepWhole;
        return s.split();
    }

    private Result split() {
        List<Node> nodes = new ArrayList<>();
        boolean changed = false;
        for (Node n : graph.nodes()) {
            List<Node> pieces = isFused(n) && !keepWhole.contains(n.name()) && !runs(n) ? pieces(n) : null;
            if (pieces == null) {
                nodes.add(n);
            } else {
                nodes.addAll(pieces);
                pieces.forEach(p -> notes.put(p.name(), "split from fused " + n.describe() + ", which "
                        + backend.id() + " does not run whole"));
                changed = true;
            }
        }
        if (!changed) {
            return new Result(graph, Map.of());
        }
        GraphBuilder b = new GraphBuilder(graph.name());
        graph.inputs().forEach(v -> b.input(v.name(), v.shape()));
        graph.initializers().forEach(b::initializer);
        nodes.forEach(b::node);
        graph.outputs().forEach(b::output);
        return new Result(b.build(), notes);
    }

    private static boolean isFused(Node n) {
        return switch (n.op()) {
            case Conv c -> !c.postOps().isEmpty();
            case Gemm g -> !g.postOps().isEmpty();
            case SqueezeExcitation se -> true;
            default -> false;
        };
    }

    /** The node as pieces the backend runs, or null when there are none. */
    private List<Node> pieces(Node n) {
        return switch (n.op()) {
            case Conv c -> epilogueSplit(n, c.postOps(), k -> c.withPostOps(c.postOps().subList(0, k)));
            case Gemm g -> epilogueSplit(n, g.postOps(), k -> g.withPostOps(g.postOps().subList(0, k)));
            case SqueezeExcitation se -> squeezeExcitation(n, se);
            default -> null;
        };
    }

    /** The head keeps the longest epilogue prefix the backend runs; each later post-op is a node of its own. */
    private List<Node> epilogueSplit(Node n, List<PostOp> postOps, IntFunction<Op> head) {
        Shape out = shapeOf(n.output());
        for (int k = postOps.size() - 1; k >= 0; k--) {
            List<PostOp> kept = postOps.subList(0, k);
            boolean keepsResidual = kept.stream().anyMatch(p -> p instanceof PostOp.AddResidual);
            List<String> inputs = new ArrayList<>(n.inputs().subList(0, Math.min(n.inputs().size(),
                    keepsResidual ? 4 : 3)));
            while (!inputs.isEmpty() && inputs.getLast().isEmpty()) {
                inputs.removeLast();
            }
            List<Node> pieces = new ArrayList<>();
            String value = fresh(n.name() + "/" + (k == 0 ? "plain" : "head"), out);
            pieces.add(new Node(value, head.apply(k), inputs, List.of(value)));
            for (int i = k; i < postOps.size(); i++) {
                String name = fresh(n.name() + "/post" + i, out);
                String next = i == postOps.size() - 1 ? n.output() : name;
                pieces.add(switch (postOps.get(i)) {
                    case PostOp.Activate a -> new Node(name, new Activation(a.function()), List.of(value),
                            List.of(next));
                    case PostOp.AddResidual r -> new Node(name, Binary.ADD, List.of(value, n.input(3)), List.of(next));
                });
                value = next;
            }
            if (pieces.stream().allMatch(this::runs)) {
                return pieces;
            }
            pieces.forEach(p -> taken.remove(p.name())); // this attempt's names are free again
        }
        return null;
    }

    private List<Node> squeezeExcitation(Node n, SqueezeExcitation se) {
        Shape x = shapeOf(n.input(0));
        int channels = x.dim(1);
        int reduced = shapeOf(n.input(1)).dim(0);
        String pooled = fresh(n.name() + "/mean", Shape.of(x.dim(0), channels, 1, 1));
        String squeezed = fresh(n.name() + "/squeeze", Shape.of(x.dim(0), reduced, 1, 1));
        String gate = fresh(n.name() + "/gate", Shape.of(x.dim(0), channels, 1, 1));
        List<Node> pieces = new ArrayList<>();
        pieces.add(new Node(pooled, GlobalPool.AVERAGE, List.of(n.input(0)), List.of(pooled)));
        pieces.add(new Node(squeezed, new Conv(Window.of(1, 1), 1, List.of(new PostOp.Activate(se.squeezeActivation()))),
                trimmed(List.of(pooled, n.input(1), n.input(3))), List.of(squeezed)));
        pieces.add(new Node(gate, new Conv(Window.of(1, 1), 1, List.of(new PostOp.Activate(se.gateActivation()))),
                trimmed(List.of(squeezed, n.input(2), n.input(4))), List.of(gate)));
        pieces.add(new Node(n.name() + "/scale", Binary.MUL, List.of(n.input(0), gate), List.of(n.output())));
        List<Node> runnable = new ArrayList<>();
        for (Node p : pieces) {
            List<Node> split = runs(p) ? List.of(p) : isFused(p) ? pieces(p) : null;
            if (split == null) {
                return null;
            }
            runnable.addAll(split);
        }
        return runnable;
    }

    private static List<String> trimmed(List<String> inputs) {
        List<String> out = new ArrayList<>(inputs);
        while (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return out;
    }

    private boolean runs(Node n) {
        List<Shape> in = new ArrayList<>();
        List<Tensor> constants = new ArrayList<>();
        for (String v : n.inputs()) {
            in.add(v.isEmpty() ? null : shapeOf(v));
            constants.add(v.isEmpty() ? null : graph.initializers().get(v));
        }
        List<Shape> out = n.outputs().stream().map(this::shapeOf).toList();
        return Placer.supports(backend, new BoundNode(n, in, out, constants), context).supported();
    }

    private Shape shapeOf(String value) {
        Shape s = shapes.get(value);
        return s != null ? s : pieceShapes.get(value);
    }

    /** A value (and node) name no other value or node of the graph has. */
    private String fresh(String base, Shape shape) {
        String name = base;
        for (int i = 2; taken.contains(name); i++) {
            name = base + "#" + i;
        }
        taken.add(name);
        pieceShapes.put(name, shape);
        return name;
    }
}
