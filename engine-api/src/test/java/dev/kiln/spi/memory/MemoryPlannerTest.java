package dev.kiln.spi.memory;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.spi.BoundNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPlannerTest {
    private static final Shape IMAGE = Shape.of(1, 4, 8, 8);
    private static final long IMAGE_BYTES = 4 * 8 * 8 * Float.BYTES;

    private static String conv(GraphBuilder b, String name, String input) {
        b.initializer(name + ".w", Tensor.allocate(4, 4, 3, 3));
        return b.add(name, new Conv(Window.square(3, 1, 1), 1), input, name + ".w");
    }

    private static MemoryPlan plan(Graph g, MemoryPlanner.InPlacePolicy policy) {
        Map<String, Shape> shapes = g.inferShapes(Map.of("x", IMAGE));
        List<BoundNode> nodes = ExecutionPlan.bind(g, shapes);
        return MemoryPlanner.plan(nodes, List.of("x"), g.outputs(), g.initializers().keySet(), policy);
    }

    /** Asserts the plan's one invariant: two values alive at one node never share a buffer unless joined in place. */
    private static void assertNoOverlap(Graph g, MemoryPlan p, Set<List<String>> inPlacePairs) {
        List<String> values = List.copyOf(p.bufferOf().keySet());
        Map<String, int[]> life = new java.util.HashMap<>();
        for (String v : values) {
            int start = g.producer(v) == null ? -1 : g.nodes().indexOf(g.producer(v));
            int end = g.outputs().contains(v) ? g.nodes().size() : start;
            for (int i = 0; i < g.nodes().size(); i++) {
                if (g.nodes().get(i).inputs().contains(v)) {
                    end = Math.max(end, i);
                }
            }
            life.put(v, new int[] {start, end});
        }
        for (String a : values) {
            for (String b : values) {
                int[] la = life.get(a), lb = life.get(b);
                boolean overlap = la[0] <= lb[1] && lb[0] <= la[1];
                if (!a.equals(b) && overlap && !inPlacePairs.contains(List.of(a, b))
                        && !inPlacePairs.contains(List.of(b, a))) {
                    assertNotEquals(p.bufferOf().get(a), p.bufferOf().get(b), a + " and " + b + " are alive together");
                }
            }
        }
    }

    @Test
    void aChainOfConvolutionsNeedsTwoBuffers() {
        GraphBuilder b = new GraphBuilder("chain");
        b.input("x", IMAGE);
        String v = "x";
        for (int i = 0; i < 6; i++) {
            v = conv(b, "c" + i, v);
        }
        b.output(v);
        try (Graph g = b.build()) {
            MemoryPlan p = plan(g, MemoryPlanner.ELEMENTWISE);
            assertEquals(7 * IMAGE_BYTES, p.naiveBytes());
            assertEquals(2, p.bufferCount(), "ping-pong between two buffers");
            assertEquals(2 * IMAGE_BYTES, p.plannedBytes());
            assertNoOverlap(g, p, Set.of());
        }
    }

    @Test
    void anElementwiseOpWritesOverTheInputThatDiesThere() {
        GraphBuilder b = new GraphBuilder("inplace");
        b.input("x", IMAGE);
        String c = conv(b, "c", "x");
        String r = b.add("relu", new Activation(ActivationFunction.RELU), c);
        b.output(conv(b, "d", r));
        try (Graph g = b.build()) {
            MemoryPlan inPlace = plan(g, MemoryPlanner.ELEMENTWISE);
            assertEquals(inPlace.bufferOf().get("c"), inPlace.bufferOf().get("relu"));
            assertNoOverlap(g, inPlace, Set.of(List.of("c", "relu")));
            MemoryPlan separate = plan(g, MemoryPlanner.NEVER);
            assertNotEquals(separate.bufferOf().get("c"), separate.bufferOf().get("relu"));
            assertNoOverlap(g, separate, Set.of());
        }
    }

    @Test
    void aResidualBranchKeepsItsInputAliveUntilTheAdd() {
        GraphBuilder b = new GraphBuilder("residual");
        b.input("x", IMAGE);
        String a = conv(b, "a", "x");
        String c = conv(b, "b", a);
        String sum = b.add("sum", Binary.ADD, c, "x");
        b.output(b.add("relu", new Activation(ActivationFunction.RELU), sum));
        try (Graph g = b.build()) {
            MemoryPlan p = plan(g, MemoryPlanner.ELEMENTWISE);
            assertNoOverlap(g, p, Set.of(List.of("b", "sum"), List.of("x", "sum"), List.of("sum", "relu"),
                    List.of("b", "relu"), List.of("x", "relu")));
            assertTrue(p.bufferCount() <= 3, "x, a, b at most; got " + p.bufferCount());
            assertNotEquals(p.bufferOf().get("x"), p.bufferOf().get("a"));
            assertNotEquals(p.bufferOf().get("x"), p.bufferOf().get("b"));
        }
    }

    @Test
    void aGraphOutputReadByALaterNodeIsNotOverwritten() {
        GraphBuilder b = new GraphBuilder("outputs");
        b.input("x", IMAGE);
        String c = conv(b, "c", "x");
        b.add("relu", new Activation(ActivationFunction.RELU), c);
        b.output("c").output("relu");
        try (Graph g = b.build()) {
            MemoryPlan p = plan(g, MemoryPlanner.ELEMENTWISE);
            assertNotEquals(p.bufferOf().get("c"), p.bufferOf().get("relu"));
        }
    }
}
