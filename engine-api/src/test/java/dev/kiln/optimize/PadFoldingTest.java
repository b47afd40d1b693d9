package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Window;
import org.junit.jupiter.api.Test;

import static dev.kiln.optimize.GraphFixtures.assertSameOutputs;
import static dev.kiln.optimize.GraphFixtures.counts;
import static dev.kiln.optimize.GraphFixtures.producer;
import static dev.kiln.optimize.GraphFixtures.runPass;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PadFoldingTest {
    private final Pass pass = new PadFolding();
    private static final int[] ASYMMETRIC = {0, 0, 1, 2, 0, 0, 2, 1}; // top 1, left 2, bottom 2, right 1

    private static GraphFixtures padThen(String name) {
        GraphFixtures f = new GraphFixtures(name, 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 7, 6));
        return f;
    }

    @Test
    void aZeroPadBecomesTheConvolutionsPadding() {
        GraphFixtures f = padThen("pad-conv");
        String p = f.add("pad", new Pad(ASYMMETRIC, 0f), "x");
        String y = f.add("conv", new Conv(Window.square(3, 2, 1), 1), p, f.weights("w", 4, 3, 3, 3));
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("Conv", 1), report.opsAfter());
                Window w = ((Conv) producer(opt, "conv").op()).window();
                assertEquals(Window.square(3, 2, 1).withPads(2, 3, 3, 2), w);
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aMinusInfinityPadBecomesTheMaxPoolsPadding() {
        GraphFixtures f = padThen("pad-maxpool");
        String p = f.add("pad", new Pad(new int[] {0, 0, 1, 1, 0, 0, 1, 0}, Float.NEGATIVE_INFINITY), "x");
        String y = f.add("pool", new MaxPool(Window.square(3, 2, 0), false), p);
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("MaxPool", 1), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    @Test
    void aZeroPadFoldsIntoAnAveragePoolThatCountsPadding() {
        GraphFixtures f = padThen("pad-avgpool");
        String p = f.add("pad", new Pad(ASYMMETRIC, 0f), "x");
        String y = f.add("pool", new AveragePool(Window.square(3, 1, 0), false, true), p);
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(counts("AveragePool", 1), report.opsAfter());
                assertSameOutputs(g, opt, 2);
            }
        }
    }

    /** Folded, the dilated window would take no tap from the 1x1 input, which the pool refuses: the Pad stays. */
    @Test
    void keepsAMinusInfinityPadThatADilatedPoolWouldSkipEntirely() {
        GraphFixtures f = new GraphFixtures("pad-dilated-maxpool", 3);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3, 1, 1));
        String p = f.add("pad", new Pad(new int[] {0, 0, 1, 1, 0, 0, 1, 1}, Float.NEGATIVE_INFINITY), "x");
        String y = f.add("pool", new MaxPool(Window.square(2, 2, 0).withDilations(2, 2), false), p);
        try (Graph g = f.build(y)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(0, report.rewrites().get(pass.name()));
                assertEquals(1, opt.opCounts().get("Pad"));
            }
        }
    }

    @Test
    void keepsPadsWhoseValueTheWindowWouldNotUse() {
        GraphFixtures f = padThen("no-fold");
        String zeroBeforeMax = f.add("pad0", new Pad(ASYMMETRIC, 0f), "x");
        String max = f.add("max", new MaxPool(Window.square(3, 1, 0), false), zeroBeforeMax);
        String oneBeforeConv = f.add("pad1", new Pad(ASYMMETRIC, 1f), "x");
        String conv = f.add("conv", new Conv(Window.square(3, 1, 0), 1), oneBeforeConv, f.weights("w", 3, 3, 3, 3));
        String zeroBeforeExcludingAverage = f.add("pad2", new Pad(ASYMMETRIC, 0f), "x");
        String avg = f.add("avg", new AveragePool(Window.square(3, 1, 0), false, false), zeroBeforeExcludingAverage);
        String channelPad = f.add("pad3", new Pad(new int[] {0, 1, 0, 0, 0, 0, 0, 0}, 0f), "x");
        String conv2 = f.add("conv2", new Conv(Window.square(1, 1, 0), 1), channelPad, f.weights("w2", 2, 4, 1, 1));
        try (Graph g = f.build(max, conv, avg, conv2)) {
            OptimizationReport report = runPass(pass, g);
            try (Graph opt = report.graph()) {
                assertEquals(0, report.rewrites().get(pass.name()));
                assertEquals(4, opt.opCounts().get("Pad"));
            }
        }
    }
}
