package dev.kiln.onednn;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cache.CacheKey;
import dev.kiln.cache.KilnCache;
import dev.kiln.cache.TuningCache;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.onednn.NativeKernels.Kernel;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timed choice between Winograd and oneDNN's convolution: timed once per shape, kept in the
 * tuning cache, the rule where timing would take too long; either form computes the reference's answer.
 */
class WinogradChoiceTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();
    private static final Engine ENGINE = Engine.withBackends(List.of(new OneDnnBackend(), new ReferenceBackend()));
    private static final boolean KILNS_WINOGRAD = ExpectedKernels.uses(Kernel.WINOGRAD);
    /** 32 to 32 channels on a 20x20 image, padded by 1: Winograd by the rule. */
    private static final WinogradF2x3 SHAPE = new WinogradF2x3(1, 20, 20, 32, 32, 20, 20, 1, 1);
    private static final long RATE = 50_000;

    private static WinogradChoice.Choice choose(TuningCache cache, long rate) {
        NativeKernels kernels = RUNTIME.kernelsFor(Kernel.WINOGRAD);
        return OneDnnThread.forCount(1).call(() -> WinogradChoice.choose(RUNTIME.dnnl, RUNTIME.engine, kernels, 1,
                rate, SHAPE, true, false, true, cache));
    }

    private static CacheKey key() {
        return WinogradChoice.key(RUNTIME.dnnl, RUNTIME.kernelsFor(Kernel.WINOGRAD), 1, SHAPE, true, false);
    }

    @Test
    void aMissTimesBothFormsAndStoresTheFasterAHitTimesNothing(@TempDir Path root) {
        if (!KILNS_WINOGRAD) {
            assertNull(RUNTIME.kernelsFor(Kernel.WINOGRAD), "Kiln's Winograd kernels loaded where none are expected");
            return;
        }
        TuningCache cache = TuningCache.open(root, WinogradChoice.CACHE_KIND);
        long before = WinogradChoice.timings();
        WinogradChoice.Choice timed = choose(cache, RATE);
        assertEquals(before + 1, WinogradChoice.timings());
        assertTrue(timed.how().startsWith("timed ("), timed.how());
        Map<String, String> stored = cache.get(key()).orElseThrow();
        assertEquals(timed.winograd() ? "winograd" : "direct", stored.get("form"));
        long winogradUs = Long.parseLong(stored.get("winograd_us"));
        long directUs = Long.parseLong(stored.get("direct_us"));
        assertTrue(winogradUs >= 0 && directUs >= 0, stored.toString());
        if (winogradUs != directUs) { // equal once rounded to microseconds: either may have been faster
            assertEquals(winogradUs < directUs, timed.winograd(), stored.toString());
        }
        assertTrue(stored.containsKey("load_average"), stored.toString());

        WinogradChoice.Choice again = choose(cache, RATE);
        assertEquals(before + 1, WinogradChoice.timings(), "a cache hit timed again");
        assertEquals(timed.winograd(), again.winograd());
        assertTrue(again.how().startsWith("timed earlier"), again.how());
    }

    @Test
    void anUnreadableEntryIsTimedAgainAndReplaced(@TempDir Path root) {
        if (!KILNS_WINOGRAD) {
            assertNull(RUNTIME.kernelsFor(Kernel.WINOGRAD));
            return;
        }
        TuningCache cache = TuningCache.open(root, WinogradChoice.CACHE_KIND);
        cache.put(key(), Map.of("form", "fast", "winograd_us", "1", "direct_us", "x"));
        long before = WinogradChoice.timings();
        WinogradChoice.Choice choice = choose(cache, RATE);
        assertEquals(before + 1, WinogradChoice.timings());
        assertEquals(choice.winograd() ? "winograd" : "direct", cache.get(key()).orElseThrow().get("form"));
    }

    @Test
    void aShapeTooLongToTimeIsLeftToTheRule(@TempDir Path root) {
        if (!KILNS_WINOGRAD) {
            assertNull(RUNTIME.kernelsFor(Kernel.WINOGRAD));
            return;
        }
        TuningCache cache = TuningCache.open(root, WinogradChoice.CACHE_KIND);
        long before = WinogradChoice.timings();
        // One multiply-add per microsecond: the direct run would take seconds.
        WinogradChoice.Choice choice = choose(cache, 1);
        assertEquals(before, WinogradChoice.timings());
        assertTrue(choice.winograd() && choice.how().startsWith("by the rule"), choice.toString());
        assertTrue(cache.get(key()).isEmpty());
    }

    @Test
    void theKeyHoldsTheShapeTheThreadsAndTheIsas() {
        if (!KILNS_WINOGRAD) {
            assertNull(RUNTIME.kernelsFor(Kernel.WINOGRAD));
            return;
        }
        Map<String, String> fields = key().fields();
        assertEquals("1x32x20x20->32x20x20 pad 1,1", fields.get("shape"));
        assertEquals("1", fields.get("threads"));
        assertEquals(RUNTIME.kernelsFor(Kernel.WINOGRAD).isa().suffix, fields.get("kernel_isa"));
        assertEquals(Integer.toHexString(RUNTIME.dnnl.effectiveCpuIsa()), fields.get("onednn_isa"));
        assertEquals(RUNTIME.dnnl.version(), fields.get("onednn"));
    }

    @Test
    void aModeMustBeOneOfThree() {
        withProperty(WinogradChoice.PROPERTY, "sometimes", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    WinogradChoice.Mode::configured);
            assertTrue(e.getMessage().contains(WinogradChoice.PROPERTY), e.getMessage());
            return null;
        });
    }

    /**
     * Compiled timed, a convolution the rule takes says which form it runs and that it was timed,
     * then timed earlier (no timing) in a second compile; timed, ruled or off, the answer is the
     * reference's.
     */
    @Test
    void timedRuledOrOffAConvolutionComputesTheReferencesAnswer(@TempDir Path root) {
        SplittableRandom random = new SplittableRandom(32);
        GraphBuilder b = new GraphBuilder("winograd-timed");
        b.input("x", Shape.of(1, 32, 20, 20));
        b.initializer("w", tensor(random, 32, 32, 3, 3));
        b.initializer("b", tensor(random, 32));
        b.output(b.add("conv", new Conv(Window.square(3, 1, 1), 1,
                List.of(new PostOp.Activate(ActivationFunction.RELU))), "x", "w", "b"));
        try (Graph g = b.build(); Tensor x = tensor(random, 1, 32, 20, 20)) {
            float[] expected = run(g, ReferenceBackend.ID, x);
            withProperty(KilnCache.ROOT_PROPERTY, root.toString(), () -> withProperty(WinogradChoice.PROPERTY, "timed",
                    () -> {
                        long before = WinogradChoice.timings();
                        String first = algorithmAndCheck(g, x, expected);
                        String second = algorithmAndCheck(g, x, expected);
                        if (KILNS_WINOGRAD) {
                            assertEquals(before + 1, WinogradChoice.timings());
                            assertTrue(first.startsWith("Winograd F(2x2,3x3) by Kiln's transforms, timed (")
                                    || first.startsWith("direct, timed ("), first);
                            assertTrue(second.contains("timed earlier"), second);
                            assertEquals(first.startsWith("Winograd"), second.startsWith("Winograd"), second);
                        } else {
                            assertFalse(first.contains("timed"), first);
                        }
                        return null;
                    }));
            withProperty(WinogradChoice.PROPERTY, "rule", () -> {
                String ruled = algorithmAndCheck(g, x, expected);
                assertEquals(KILNS_WINOGRAD, ruled.startsWith("Winograd F(2x2,3x3) by Kiln's transforms, by the rule"),
                        ruled);
                return null;
            });
            withProperty(WinogradChoice.PROPERTY, "off", () -> {
                String off = algorithmAndCheck(g, x, expected);
                assertFalse(off.contains("Winograd"), off);
                return null;
            });
        }
    }

    /** The node's implementation as {@code explain} shows it, after checking the output against {@code expected}. */
    private static String algorithmAndCheck(Graph g, Tensor x, float[] expected) {
        try (CompiledModel model = ENGINE.compile(g, new CompileOptions(OneDnnBackend.ID, false))) {
            Map<String, Tensor> outputs = model.run(Map.of("x", x));
            try {
                OneDnnBackendTest.assertClose(expected, outputs.get(g.outputs().getFirst()).toFloatArray());
            } finally {
                outputs.values().forEach(Tensor::close);
            }
            return model.placements().stream().filter(p -> p.node().equals("conv")).findFirst().orElseThrow()
                    .algorithm();
        }
    }

    private static float[] run(Graph g, String backend, Tensor x) {
        try (CompiledModel model = ENGINE.compile(g, new CompileOptions(backend, false))) {
            Map<String, Tensor> outputs = model.run(Map.of("x", x));
            try {
                return outputs.get(g.outputs().getFirst()).toFloatArray();
            } finally {
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    private static Tensor tensor(SplittableRandom random, int... dims) {
        int count = 1;
        for (int d : dims) {
            count *= d;
        }
        float[] v = new float[count];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return Tensor.of(Shape.of(dims), v);
    }

    private static <T> T withProperty(String name, String value, Supplier<T> body) {
        String before = System.getProperty(name);
        System.setProperty(name, value);
        try {
            return body.get();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }
}
