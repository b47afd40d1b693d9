package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.PostOp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The standard passes together, on one block of each residual family. */
class OptimizerTest {
    private static final Binary ADD = new Binary(Binary.Kind.ADD);
    private static final Activation RELU = new Activation(ActivationFunction.RELU);
    private static final Activation RELU6 = new Activation(ActivationFunction.RELU6);

    /** conv, BN, Relu, conv, BN, Add(x), Relu: the BNs fold, the Add fuses, then the Relu after it. */
    @Test
    void resnetBasicBlockBecomesTwoFusedConvs() {
        GraphFixtures f = new GraphFixtures("resnet-block", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 6, 6));
        String a = f.add("relu1", RELU, f.batchNorm("bn1", f.conv("conv1", "x", 4, 4, 3, 1, false), 4));
        String b = f.batchNorm("bn2", f.conv("conv2", a, 4, 4, 3, 1, false), 4);
        String out = f.add("relu2", RELU, f.add("add", ADD, b, "x"));
        try (Graph g = f.build(out)) {
            OptimizationReport report = new Optimizer().optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 2), report.opsAfter());
                assertEquals(List.of(new PostOp.AddResidual(), new PostOp.Activate(ActivationFunction.RELU)),
                        ((Conv) producer(opt, "relu2").op()).postOps());
                assertEquals(2, report.rewrites().get("batch-norm-folding"));
                assertEquals(2, report.rewrites().get("activation-fusion"));
                assertEquals(1, report.rewrites().get("residual-add-fusion"));
                assertEquals(3, report.rounds(), "fuse; fuse the Relu after the Add; find nothing");
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** Expand 1x1, BN, ReLU6; depthwise 3x3, BN, ReLU6; project 1x1, BN, no activation; Add. */
    @Test
    void mobilenetV2InvertedResidualBecomesThreeFusedConvs() {
        GraphFixtures f = new GraphFixtures("mobilenet-v2-block", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 5, 5));
        String e = f.add("expand_relu", RELU6, f.batchNorm("expand_bn", f.conv("expand", "x", 4, 12, 1, 1, false), 12));
        String d = f.add("dw_relu", RELU6, f.batchNorm("dw_bn", f.conv("dw", e, 12, 12, 3, 12, false), 12));
        String p = f.batchNorm("project_bn", f.conv("project", d, 12, 4, 1, 1, false), 4);
        String out = f.add("add", ADD, "x", p);
        try (Graph g = f.build(out)) {
            OptimizationReport report = new Optimizer().optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 3), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** EfficientNet's MBConv as PyTorch exports it: SiLU as Mul and Sigmoid, an SE block, dropout, Add. */
    @Test
    void efficientnetMbConvBecomesThreeFusedConvsAndOneSqueezeExcitation() {
        GraphFixtures f = new GraphFixtures("mbconv", 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4, 6, 6));
        String e = silu(f, "expand", f.batchNorm("expand_bn", f.conv("expand", "x", 4, 16, 1, 1, false), 16));
        String d = silu(f, "dw", f.batchNorm("dw_bn", f.conv("dw", e, 16, 16, 5, 16, false), 16));
        String pooled = f.add("se_pool", GlobalPool.AVERAGE, d);
        String s = silu(f, "se_reduce", f.conv("se_reduce", pooled, 16, 2, 1, 1, true));
        String gate = f.add("se_gate", new Activation(ActivationFunction.SIGMOID),
                f.conv("se_expand", s, 2, 16, 1, 1, true));
        String scaled = f.add("se_scale", Binary.MUL, d, gate);
        String p = f.batchNorm("project_bn", f.conv("project", scaled, 16, 4, 1, 1, false), 4);
        String dropped = f.add("drop_path", Passthrough.IDENTITY, p);
        String out = f.add("add", ADD, dropped, "x");
        try (Graph g = f.build(out)) {
            OptimizationReport report = new Optimizer().optimize(g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("FusedConv", 3, "SqueezeExcitation", 1), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    private static String silu(GraphFixtures f, String name, String x) {
        String s = f.add(name + "_sigmoid", new Activation(ActivationFunction.SIGMOID), x);
        return f.add(name + "_silu", Binary.MUL, x, s);
    }

    @Test
    void theSourceGraphIsUnchangedAndClosingTheOptimizedGraphLeavesItsWeightsOpen() {
        GraphFixtures f = new GraphFixtures("ownership", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 4, 4));
        String kept = f.conv("kept", "x", 3, 3, 1, 1, true); // read twice: keeps its own weights
        String folded = f.batchNorm("bn", f.conv("folded", kept, 3, 3, 3, 1, true), 3);
        String out = f.add("add", ADD, kept, folded);
        try (Graph g = f.build(out)) {
            List<Node> nodesBefore = g.nodes();
            OptimizationReport report = new Optimizer().optimize(g);
            Graph opt = report.graph();
            assertTrue(opt.initializers().containsKey("kept.w"), "the unchanged weights are carried over");
            List<Tensor> created = new ArrayList<>();
            opt.initializers().forEach((name, t) -> {
                if (!g.initializers().containsKey(name)) {
                    created.add(t);
                }
            });
            assertFalse(created.isEmpty(), "folding created new weights");
            assertSameOutputs(g, opt, 1);
            opt.close();
            assertEquals(nodesBefore, g.nodes());
            g.initializers().values().forEach(t -> assertFalse(t.isClosed(), t + " of the source graph was closed"));
            created.forEach(t -> assertTrue(t.isClosed(), "a folded tensor was not freed"));
            try (Graph again = new Optimizer().optimize(g).graph()) {
                assertSameOutputs(g, again, 1); // the source still runs, and optimizes again
            }
        }
    }

    @Test
    void passesThatNeverSettleFailAndFreeWhatTheyCreated() {
        List<Tensor> created = new ArrayList<>();
        Pass restless = new Pass() {
            @Override
            public String name() {
                return "restless";
            }

            @Override
            public int run(WorkingGraph graph) {
                Tensor t = Tensor.allocate(1);
                created.add(t);
                graph.addConstant("extra", t);
                return 1;
            }
        };
        GraphFixtures f = new GraphFixtures("restless", 5);
        f.builder().input("x", Shape.of(2));
        try (Graph g = f.build(f.add("relu", RELU, "x"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new Optimizer(List.of(restless)).optimize(g));
            assertTrue(e.getMessage().contains("did not settle"), e.getMessage());
            assertEquals(Optimizer.MAX_ROUNDS, created.size());
            created.forEach(t -> assertTrue(t.isClosed()));
        }
    }

    @Test
    void theReportListsEveryPassInOrderWithItsRewrites() {
        GraphFixtures f = new GraphFixtures("report", 6);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 3, 3));
        String out = f.add("relu", RELU, f.conv("conv", "x", 2, 2, 1, 1, true));
        try (Graph g = f.build(out)) {
            OptimizationReport report = new Optimizer().optimize(g);
            report.graph().close();
            assertEquals(Optimizer.standardPasses().stream().map(Pass::name).toList(),
                    List.copyOf(report.rewrites().keySet()));
            assertEquals(Map.of("Conv", 1, "Relu", 1), report.opsBefore());
            assertEquals(Map.of("FusedConv", 1), report.opsAfter());
            assertEquals(1, report.totalRewrites());
            assertTrue(report.summary().contains("activation-fusion"), report.summary());
        }
    }
}
