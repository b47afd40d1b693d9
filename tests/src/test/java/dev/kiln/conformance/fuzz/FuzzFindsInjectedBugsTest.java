package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.verify.OptimizerVerifier;
import dev.kiln.graph.Graph;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.graph.ops.Conv;
import dev.kiln.optimize.ActivationFusion;
import dev.kiln.optimize.Optimizer;
import dev.kiln.optimize.Pass;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.BoundNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fuzzer finds planted bugs within the CI budget and shrinks them to at most three nodes: a
 * backend wrong only on depthwise convolutions of stride 2 over an odd width, and an optimizer
 * whose activation fusion drops the activation after a residual add. The same runs without the
 * bugs find nothing, so what is found comes from the bugs.
 */
class FuzzFindsInjectedBugsTest {
    private static final int CASES = 60;

    /** A depthwise convolution (one input channel per group, several groups) of stride 2 over an odd input width. */
    private static boolean depthwiseStride2OddWidth(BoundNode node) {
        return node.op() instanceof Conv conv && conv.groups() > 1 && node.inputShape(1).dim(1) == 1
                && conv.window().strideW() == 2 && node.inputShape(0).dim(3) % 2 == 1;
    }

    private static FuzzReport fuzzBackend(float error, Path out) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(),
                new OpFormFaultBackend("faulty", FuzzFindsInjectedBugsTest::depthwiseStride2OddWidth, error)));
        CaseRunner runner = new InProcessRunner(engine, new CaseChecker(engine, new Optimizer(), out));
        return new Fuzzer(FuzzOptions.cases(7, CASES).withOut(out), Map.of("faulty", runner), line -> { }).run();
    }

    private static FuzzReport fuzzOptimizer(Optimizer optimizer, Path out) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        CaseRunner runner = new InProcessRunner(engine, new CaseChecker(engine, optimizer, out));
        return new Fuzzer(FuzzOptions.cases(7, CASES).withOut(out), Map.of(CaseChecker.OPTIMIZER, runner),
                line -> { }).run();
    }

    @Test
    void findsABackendWrongOnlyOnDepthwiseStride2OverAnOddWidth(@TempDir Path out) throws IOException {
        FuzzReport report = fuzzBackend(0.01f, out);
        assertEquals(1, report.findings().size(), () -> report.findings().toString());
        FuzzReport.Finding f = report.findings().getFirst();
        assertEquals("faulty", f.target());
        assertEquals("DIVERGED", f.verdict());
        assertTrue(f.op().contains("/depthwise"), f.op());
        assertTrue(f.nodes() <= 3, () -> "shrunk to " + f.nodes() + " nodes: " + f.recipe());
        GraphRecipe shrunk = GraphRecipe.parse(f.recipe());
        assertTrue(shrunk.nodes().stream().anyMatch(n -> n.op().equals("Conv")), f.recipe());
        Path dir = out.resolve(f.caseName());
        for (String file : List.of("model.onnx", "recipe.txt", "replay.txt", "x.npy")) {
            assertTrue(Files.isRegularFile(dir.resolve(file)), "missing " + file + " in " + dir);
        }
        assertTrue(Files.readString(dir.resolve("replay.txt")).contains("kiln verify --model " + dir.resolve(
                "model.onnx") + " --backends faulty"), Files.readString(dir.resolve("replay.txt")));
    }

    @Test
    void theSameBackendWithoutTheFaultPasses(@TempDir Path out) {
        FuzzReport report = fuzzBackend(0, out);
        assertTrue(report.passed(), () -> report.findings().toString());
        assertTrue(report.targets().getFirst().forms().keySet().stream().anyMatch(f -> f.contains("/depthwise")),
                "no depthwise convolution ran: the fault could not have shown");
    }

    @Test
    void findsAnOptimizerThatDropsTheActivationAfterAResidualAdd(@TempDir Path out) throws IOException {
        Optimizer buggy = new Optimizer(passesWithTheBug());
        FuzzReport report = fuzzOptimizer(buggy, out);
        // One bug, found wherever a conv with a residual had an activation after it: plain and
        // depthwise convolutions are distinct forms (a backend has a kernel for each), so up to two findings.
        assertFalse(report.findings().isEmpty(), "the planted optimizer bug was not found");
        for (FuzzReport.Finding f : report.findings()) {
            assertEquals(CaseChecker.OPTIMIZER, f.target());
            assertEquals("DIVERGED", f.verdict());
            assertTrue(f.op().startsWith("FusedConv") && f.op().contains("(add)"), f.op());
            assertTrue(f.nodes() <= 3, () -> "shrunk to " + f.nodes() + " nodes: " + f.recipe());
            List<String> ops = GraphRecipe.parse(f.recipe()).nodes().stream().map(FuzzNode::op).toList();
            assertTrue(ops.contains("Conv") && ops.contains("Add"), ops.toString());
            Path dir = out.resolve(f.caseName());
            assertTrue(Files.isRegularFile(dir.resolve("model.onnx")));
            // The written replay is kiln verify --optimizer on the model and its input; what that
            // command runs (OptimizerVerifier) finds the bug in those files with the buggy
            // optimizer, and nothing with the standard one.
            String verify = "kiln verify --optimizer --model " + dir.resolve("model.onnx") + " --input "
                    + RecipeMaterializer.INPUT + "=" + dir.resolve("x.npy");
            assertEquals(verify, Files.readAllLines(dir.resolve("replay.txt")).getFirst());
            Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
            try (Graph graph = OnnxImporter.load(dir.resolve("model.onnx"));
                 Tensor x = Npy.read(dir.resolve("x.npy"))) {
                OptimizerVerifier.Verdict found = new OptimizerVerifier(engine, buggy).verify(graph,
                        Map.of(RecipeMaterializer.INPUT, x));
                assertEquals(OptimizerVerifier.Status.DIVERGED, found.status(), found::message);
                OptimizerVerifier.Verdict standard = new OptimizerVerifier(engine, new Optimizer()).verify(graph,
                        Map.of(RecipeMaterializer.INPUT, x));
                assertEquals(OptimizerVerifier.Status.PASSED, standard.status(), standard::message);
            }
        }
    }

    private static List<Pass> passesWithTheBug() {
        List<Pass> passes = new ArrayList<>();
        for (Pass p : Optimizer.standardPasses()) {
            passes.add(p instanceof ActivationFusion ? new ActivationDroppedAfterResidual() : p);
        }
        return passes;
    }

    @Test
    void theStandardOptimizerPassesTheSameCases(@TempDir Path out) {
        FuzzReport report = fuzzOptimizer(new Optimizer(), out);
        assertTrue(report.passed(), () -> report.findings().toString());
        assertTrue(report.targets().getFirst().forms().keySet().stream().anyMatch(f -> f.contains("(add+")),
                "no residual conv with an activation after it was generated: the bug could not have shown");
    }
}
