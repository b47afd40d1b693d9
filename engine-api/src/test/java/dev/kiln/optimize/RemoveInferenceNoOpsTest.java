package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RemoveInferenceNoOpsTest {
    private final Pass pass = new RemoveInferenceNoOps();

    @Test
    void removesIdentityAndDropoutBetweenConvAndActivation() {
        GraphFixtures f = new GraphFixtures("noops", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 5, 5));
        String c = f.conv("conv", "x", 3, 4, 3, 1, true);
        String id = f.add("identity", Passthrough.IDENTITY, c);
        // Dropout as ONNX exports it, with a mask output that nothing reads.
        f.builder().node("dropout", Passthrough.DROPOUT, List.of(id), List.of("dropped", "mask"));
        String r = f.add("relu", new Activation(ActivationFunction.RELU), "dropped");
        try (Graph g = f.build(r)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1, "Relu", 1), report.opsAfter());
                assertEquals(2, report.rewrites().get(pass.name()));
                assertEquals("conv", producer(opt, producer(opt, "relu").input(0)).name());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void keepsTheFlattenThatDropsTheSpatialAxesAndRemovesOnesThatChangeNothing() {
        GraphFixtures f = new GraphFixtures("flatten", 2);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 6, 4, 4));
        String pooled = f.add("pool", GlobalPool.AVERAGE, "x");
        String flat = f.add("flatten", new Flatten(1), pooled); // [N, 6, 1, 1] -> [N, 6]: a real change
        String again = f.add("flatten_again", new Flatten(1), flat); // [N, 6] -> [N, 6]
        String reshaped = f.add("reshape_same", new Reshape(0, -1), again); // [N, 6] -> [N, 6]
        String fc = f.add("fc", Gemm.FULLY_CONNECTED, reshaped, f.weights("fc.w", 3, 6), f.weights("fc.b", 3));
        try (Graph g = f.build(fc)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("GlobalAveragePool", 1, "Flatten", 1, "Gemm", 1), report.opsAfter());
                assertEquals("flatten", producer(opt, producer(opt, "fc").input(0)).name());
                assertSameOutputs(g, opt, 3);
            }
        }
    }

    @Test
    void keepsAReshapeToALiteralBatchOfOneWhenTheBatchIsSymbolic() {
        try (Graph g = reshapeToLiteralBatchOne(Shape.DYNAMIC)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                // At batch 1 it changes nothing, at batch 2 it turns [2, 8] into [1, 16].
                assertEquals(counts("Reshape", 1, "Relu", 1), report.opsAfter());
            }
        }
    }

    @Test
    void removesAReshapeToALiteralBatchOfOneWhenTheInputIsFixedAtBatchOne() {
        try (Graph g = reshapeToLiteralBatchOne(1)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Relu", 1), report.opsAfter());
                assertSameOutputs(g, opt, 1);
            }
        }
    }

    private static Graph reshapeToLiteralBatchOne(int batch) {
        GraphFixtures f = new GraphFixtures("reshape", 3);
        f.builder().input("x", Shape.of(batch, 8));
        String r = f.add("reshape", new Reshape(1, -1), "x");
        return f.build(f.add("relu", new Activation(ActivationFunction.RELU), r));
    }

    @Test
    void anIdentityThatWritesAGraphOutputGivesItsNameToTheProducer() {
        GraphFixtures f = new GraphFixtures("output", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 2, 3, 3));
        String c = f.conv("conv", "x", 2, 2, 1, 1, true);
        String r = f.add("relu", new Activation(ActivationFunction.RELU), c);
        String id = f.add("identity", Passthrough.IDENTITY, c); // conv's output is read twice
        try (Graph g = f.build(id, r)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1, "Relu", 1), report.opsAfter());
                assertEquals("conv", producer(opt, "identity").name());
                assertEquals("identity", producer(opt, "relu").input(0));
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void anIdentityFromAGraphInputToAGraphOutputStays() {
        GraphFixtures f = new GraphFixtures("passthrough", 5);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4));
        try (Graph g = f.build(f.add("identity", Passthrough.IDENTITY, "x"))) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Identity", 1), report.opsAfter());
                assertEquals(0, report.rewrites().get(pass.name()));
            }
        }
    }

    @Test
    void aDropoutWhoseMaskIsReadStays() {
        GraphFixtures f = new GraphFixtures("mask", 6);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 4));
        f.builder().node("dropout", Passthrough.DROPOUT, List.of("x"), List.of("y", "mask"));
        String r = f.add("relu", new Activation(ActivationFunction.RELU), "y");
        try (Graph g = f.build(r, "mask")) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Dropout", 1, "Relu", 1), report.opsAfter());
            }
        }
    }

    @Test
    void removesSinglePixelPoolsAndKeepsStridedOnes() {
        GraphFixtures f = new GraphFixtures("pools", 4);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 7, 7));
        String avg = f.add("avg1x1", new AveragePool(Window.of(1, 1), false, false), "x");
        String max = f.add("max1x1", new MaxPool(Window.of(1, 1), false), avg);
        String strided = f.add("max1x1s2", new MaxPool(Window.square(1, 2, 0), false), max);
        try (Graph g = f.build(strided)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("MaxPool", 1), report.opsAfter());
                assertEquals("x", producer(opt, "max1x1s2").input(0));
                assertSameOutputs(g, opt, 2);
            }
        }
    }
}
