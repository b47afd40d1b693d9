package dev.kiln.runtime;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backend that lacks a fused form gets the node split into ops it runs, not the whole node sent elsewhere. */
class FusedFormSplittingTest {

    /** The reference kernels under another id, refusing the nodes {@code refuses} matches. */
    private record PartialBackend(Predicate<BoundNode> refuses) implements Backend {
        private static final ReferenceBackend KERNELS = new ReferenceBackend();

        @Override
        public String id() {
            return "partial";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return refuses.test(node) ? Support.no("test backend lacks this form") : KERNELS.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            return KERNELS.compile(partition, context);
        }
    }

    private static boolean hasResidual(BoundNode n) {
        return n.op() instanceof Conv c && c.hasResidual();
    }

    private static boolean isFused(BoundNode n) {
        return n.op() instanceof Conv c && !c.postOps().isEmpty() || n.op() instanceof SqueezeExcitation;
    }

    /** conv [Relu6, Add, SiLU] -> SE -> conv [Relu]. */
    private static Graph block() {
        SplittableRandom random = new SplittableRandom(5);
        GraphBuilder b = new GraphBuilder("block");
        b.input("x", Shape.of(2, 8, 6, 6));
        b.initializer("w", tensor(random, 8, 8, 3, 3));
        b.initializer("bias", tensor(random, 8));
        b.initializer("w1", tensor(random, 2, 8, 1, 1));
        b.initializer("w2", tensor(random, 8, 2, 1, 1));
        b.initializer("b2", tensor(random, 8));
        b.initializer("wp", tensor(random, 4, 8, 1, 1));
        String conv = b.add("conv", new Conv(Window.square(3, 1, 1), 1, List.of(
                new PostOp.Activate(ActivationFunction.RELU6), new PostOp.AddResidual(),
                new PostOp.Activate(ActivationFunction.SILU))), "x", "w", "bias", "x");
        String se = b.add("se", new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID), conv,
                "w1", "w2", "", "b2");
        b.output(b.add("project", new Conv(Window.of(1, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU))), se, "wp"));
        return b.build();
    }

    private static Tensor tensor(SplittableRandom random, int... dims) {
        float[] v = new float[Arrays.stream(dims).reduce(1, (x, y) -> x * y)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.of(Shape.of(dims), v);
    }

    private static float[] run(Engine engine, String backend, Graph g, Map<String, String> placements) {
        try (CompiledModel model = engine.compile(g, new CompileOptions(backend, false));
             Tensor x = tensor(new SplittableRandom(9), 2, 8, 6, 6); Tensor y = model.run(x)) {
            model.placements().forEach(p -> placements.put(p.node(), p.backend() + " " + p.op() + " " + p.reason()));
            return y.toFloatArray();
        }
    }

    @Test
    void aMissingResidualAddAndSqueezeExcitationAreSplitIntoOpsTheBackendRuns() {
        Engine engine = Engine.withBackends(List.of(new PartialBackend(
                n -> hasResidual(n) || n.op() instanceof SqueezeExcitation), new ReferenceBackend()));
        try (Graph g = block()) {
            Map<String, String> placements = new java.util.LinkedHashMap<>();
            float[] split = run(engine, "partial", g, placements);
            float[] whole = run(engine, ReferenceBackend.ID, g, new java.util.HashMap<>());

            assertArrayEquals(whole, split, 1e-5f);
            assertTrue(placements.values().stream().allMatch(p -> p.startsWith("partial ")), placements.toString());
            // The conv keeps the Relu6 it can run; the add and SiLU after it become nodes of their own.
            assertEquals(List.of("conv/head", "conv/post1", "conv/post2", "se/mean", "se/squeeze", "se/gate",
                    "se/scale", "project"), List.copyOf(placements.keySet()));
            assertTrue(placements.get("conv/post1").startsWith("partial Add chosen backend (split from fused node"
                    + " 'conv' (FusedConv), which partial does not run whole)"), placements.get("conv/post1"));
            assertEquals("partial FusedConv chosen backend", placements.get("project"));
        }
    }

    @Test
    void withNoFusedFormAtAllEveryEpilogueBecomesAnOp() {
        Engine engine = Engine.withBackends(List.of(new PartialBackend(FusedFormSplittingTest::isFused),
                new ReferenceBackend()));
        try (Graph g = block()) {
            Map<String, String> placements = new java.util.LinkedHashMap<>();
            float[] split = run(engine, "partial", g, placements);

            assertArrayEquals(run(engine, ReferenceBackend.ID, g, new java.util.HashMap<>()), split, 1e-5f);
            assertEquals(Map.of("partial", 12L), placements.values().stream()
                    .collect(Collectors.groupingBy(p -> p.split(" ")[0], Collectors.counting())), placements.toString());
        }
    }

    @Test
    void aNodeWhosePiecesTheBackendCannotRunStaysWholeAndFallsBack() {
        Engine engine = Engine.withBackends(List.of(new PartialBackend(
                n -> hasResidual(n) || n.op() instanceof Activation), new ReferenceBackend()));
        try (Graph g = block()) {
            Map<String, String> placements = new java.util.LinkedHashMap<>();
            run(engine, "partial", g, placements);

            assertTrue(placements.get("conv").startsWith("reference FusedConv fallback: partial cannot run it"),
                    placements.get("conv"));
            assertTrue(placements.get("se").startsWith("partial SqueezeExcitation"), placements.get("se"));
        }
    }
}
