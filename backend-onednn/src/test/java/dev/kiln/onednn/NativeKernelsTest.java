package dev.kiln.onednn;

import dev.kiln.onednn.NativeKernels.Isa;
import dev.kiln.onednn.NativeKernels.Kernel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Kiln's own native kernels ({@code src/main/c/kernels.c}), which the build compiles into the jar
 * ({@code ./run-tests} installs the C compiler, so they must be there wherever the CPU has AVX2
 * or AVX-512): loaded beside oneDNN in the form {@link ExpectedKernels} works out, and each form
 * the CPU executes as exact as the math it replaces, on two threads and on one. They run where a
 * model runs them: on the oneDNN thread for two (so that no test thread starts an OpenMP team of
 * its own), on the calling thread for one. Only where the CPU has neither form are the tests of
 * the kernels themselves skipped, saying so.
 */
class NativeKernelsTest {
    private static final OneDnnRuntime RUNTIME = OneDnnRuntime.get().require();

    /**
     * The forms to test: each the CPU executes, up to the one in use (so that the run capped at
     * AVX2 does not test the AVX-512 form again); null alone where the CPU executes neither.
     */
    static Stream<Isa> forms() {
        List<Isa> forms = ExpectedKernels.CPU.stream()
                .filter(isa -> ExpectedKernels.IN_USE.map(used -> isa.compareTo(used) <= 0).orElse(true)).toList();
        return forms.isEmpty() ? Stream.of((Isa) null) : forms.stream();
    }

    /** The {@code isa} form of the kernels; skipped, in the output too, where the CPU has neither form. */
    private static NativeKernels form(Isa isa) {
        if (isa == null) {
            System.out.println("SKIPPED: this CPU has neither AVX2 with FMA nor AVX-512 (/proc/cpuinfo), so Kiln's"
                    + " kernels are not tested here (" + RUNTIME.kernelsStatus + ")");
        }
        assumeTrue(isa != null, "this CPU has neither AVX2 with FMA nor AVX-512");
        return NativeKernels.form(RUNTIME.dnnl, isa);
    }

    @Test
    void theBuildBroughtThemAndTheyShareOneDnnsOpenMpRuntime() {
        System.out.println("Kiln's kernels: " + RUNTIME.kernelsStatus);
        if (ExpectedKernels.CPU.isEmpty()) {
            assertEquals("oneDNN only, without Kiln's kernels (Kiln's kernels need AVX2 with FMA or AVX-512,"
                    + " which this CPU lacks)", RUNTIME.kernelsStatus);
        }
        if (ExpectedKernels.IN_USE.isEmpty()) {
            assertEquals(null, RUNTIME.kernels, RUNTIME.kernelsStatus);
            return;
        }
        Isa isa = ExpectedKernels.IN_USE.get();
        assertNotNull(RUNTIME.kernels, RUNTIME.kernelsStatus);
        assertEquals(isa, RUNTIME.kernels.isa(), RUNTIME.kernelsStatus);
        assertTrue(RUNTIME.kernelsStatus.startsWith(statusOf(isa)), RUNTIME.kernelsStatus);
    }

    /** The status of each form: which kernels it is used for, and which work oneDNN keeps. */
    private static String statusOf(Isa isa) {
        return switch (isa) {
            case AVX512 -> "with Kiln's AVX-512 kernels for swish, squeeze-excitation, Winograd 3x3";
            case AVX2 -> "with Kiln's AVX2 kernels for swish, squeeze-excitation, Winograd 3x3";
        };
    }

    /**
     * Within 3e-7 of x / (1 + e^-x) computed in double, relative, wherever that is a normal float;
     * NaN stays NaN, infinity stays infinity, and below -87 (where the answer underflows) the result
     * is at most 1e-30 in size. Lengths around the 16-value vector, and past the size from which the
     * pass is split between threads; the floats after the range are left alone.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void swishMatchesTheMathOnEveryKindOfValue(Isa isa) {
        NativeKernels kernels = form(isa);
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 1e-45f, 0.5f, -0.5f, 20f, -20f, 87f, -87f, 88.5f, -88.5f, 100f,
                -100f, 1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN};
        SplittableRandom random = new SplittableRandom(11);
        for (int count : new int[]{1, 15, 16, 17, 1000, 16_383, 16_384, 40_001}) {
            float[] x = new float[count];
            for (int i = 0; i < count; i++) {
                x[i] = i < special.length ? special[i] : (float) (random.nextGaussian() * 6);
            }
            float[] y = swish(kernels, x, 2);
            assertArrayEquals(y, swish(kernels, x, 1), "one thread against two, " + count + " values");
            for (int i = 0; i < count; i++) {
                double want = x[i] / (1 + Math.exp(-(double) x[i]));
                String where = isa + " swish(" + x[i] + ") of " + count + " values: " + y[i] + ", want " + want;
                if (Float.isNaN(x[i])) {
                    assertTrue(Float.isNaN(y[i]), where);
                } else if (x[i] == Float.POSITIVE_INFINITY) {
                    assertEquals(Float.POSITIVE_INFINITY, y[i], where);
                } else if (x[i] < -87) {
                    assertTrue(Math.abs(y[i]) <= 1e-30, where);
                } else if (Math.abs(want) < Float.MIN_NORMAL) {
                    assertTrue(Math.abs(y[i] - want) <= Float.MIN_NORMAL, where);
                } else {
                    assertTrue(Math.abs(y[i] - want) <= 3e-7 * Math.abs(want), where);
                }
            }
        }
    }

    /**
     * Over a channels-last image, on two threads and on one: every value as {@link #swish} gives it,
     * and each channel's mean of the results within 1e-6 of the mean of their sizes (computed in
     * double). Channel counts with and without a tail past 16, pixel counts around the 64 kept in
     * float between double totals, and an image large enough to be split between threads.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void swishWithChannelMeansSwishesAsSwishAndAveragesEachChannel(Isa isa) {
        NativeKernels kernels = form(isa);
        SplittableRandom random = new SplittableRandom(13);
        int[][] shapes = {{1, 16}, {63, 24}, {64, 40}, {65, 8}, {1000, 1152}, {3136, 144}};
        for (int[] shape : shapes) {
            for (int threads : new int[]{1, 2}) {
                int pixels = shape[0];
                int channels = shape[1];
                String where = isa + ", " + pixels + " x " + channels + " on " + threads + " threads";
                float[] x = new float[pixels * channels];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (random.nextGaussian() * 4);
                }
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment data = arena.allocate((long) x.length * Float.BYTES, 64);
                    MemorySegment means = arena.allocate((long) channels * Float.BYTES, 64);
                    MemorySegment.copy(x, 0, data, JAVA_FLOAT, 0, x.length);
                    onThreads(threads, () -> kernels.swishWithChannelMeans(data, pixels, channels, means));
                    assertArrayEquals(swish(kernels, x, threads), data.toArray(JAVA_FLOAT), where);
                    for (int c = 0; c < channels; c++) {
                        double sum = 0;
                        double size = 0;
                        for (int p = 0; p < pixels; p++) {
                            float value = data.getAtIndex(JAVA_FLOAT, (long) p * channels + c);
                            sum += value;
                            size += Math.abs(value);
                        }
                        float mean = means.getAtIndex(JAVA_FLOAT, c);
                        assertTrue(Math.abs(mean - sum / pixels) <= 1e-6 * size / pixels + 1e-30,
                                where + ", channel " + c + ": " + mean + ", want " + sum / pixels);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void swishWithChannelMeansRefusesShapesItsBuffersDoNotHold(Isa isa) {
        NativeKernels kernels = form(isa);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(64L * 32 * Float.BYTES, 64);
            MemorySegment means = arena.allocate(32 * Float.BYTES, 64);
            for (long[] shape : new long[][]{{65, 32}, {64, 33}, {0, 32}, {1, 0}, {1, NativeKernels.MAX_CHANNELS + 1}}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> kernels.swishWithChannelMeans(data, shape[0], shape[1], means));
                assertTrue(e.getMessage().startsWith("swish with channel means of " + shape[0] + " x " + shape[1]),
                        e.getMessage());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void aSwishOfNoValuesTouchesNothingAndTooFewBytesIsRefused(Isa isa) {
        NativeKernels kernels = form(isa);
        assertEquals(0, swish(kernels, new float[0], 2).length);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(16 * Float.BYTES, 64);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> kernels.swish(small, 17));
            assertTrue(e.getMessage().contains("17 values over 64 bytes"), e.getMessage());
        }
    }

    /** Prints which computes swish in a fresh JVM, as the runtime decides once per process. */
    public static final class Status {
        public static void main(String[] args) {
            System.out.println(OneDnnRuntime.get().require().kernelsStatus);
        }
    }

    /** A form used for some of the work only (none today: each AVX2 form beat oneDNN's) says who does the rest. */
    @Test
    void theStatusNamesTheWorkOneDnnKeeps() {
        assertEquals("with Kiln's AVX2 kernels for squeeze-excitation, Winograd 3x3; oneDNN's own swish (faster than"
                + " Kiln's AVX2 form)", NativeKernels.status(Isa.AVX2, EnumSet.of(Kernel.SQUEEZE_EXCITATION,
                Kernel.WINOGRAD), ""));
    }

    @Test
    void kernelsSwitchedOffAreNamedByLabelOrName() {
        assertEquals(EnumSet.of(Kernel.WINOGRAD, Kernel.SQUEEZE_EXCITATION),
                NativeKernels.switchedOff(" winograd,Squeeze-Excitation "));
        assertEquals(EnumSet.noneOf(Kernel.class), NativeKernels.switchedOff(""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeKernels.switchedOff("swish,gelu"));
        assertTrue(e.getMessage().contains("gelu") && e.getMessage().contains(NativeKernels.OFF_PROPERTY),
                e.getMessage());
    }

    @Test
    void aKernelSwitchedOffIsOneDnnsByRequestNotForSpeed() {
        assertEquals("with Kiln's AVX2 kernels for swish, squeeze-excitation; oneDNN's own Winograd 3x3"
                + " (-Dkiln.onednn.kernelsOff)", NativeKernels.status(Isa.AVX2, EnumSet.of(Kernel.SWISH,
                Kernel.SQUEEZE_EXCITATION), EnumSet.of(Kernel.WINOGRAD), ""));
    }

    @Test
    void aSwitchedOffKernelIsLeftToOneDnnInAFreshJvm() throws Exception {
        String status = ChildJvm.lastLine(Status.class, environment -> {
        }, "--enable-native-access=ALL-UNNAMED", "-Dkiln.onednn.kernelsOff=winograd");
        if (ExpectedKernels.CPU.isEmpty()) {
            form(null); // skipped, saying why: the kernels cannot load on this CPU
        }
        assertTrue(status.endsWith("oneDNN's own Winograd 3x3 (-Dkiln.onednn.kernelsOff)")
                && !status.contains("kernels for Winograd"), status);
    }

    @Test
    void aPropertyKeepsOneDnnsOwnAndTheBackendSaysSo() throws Exception {
        assertEquals("oneDNN only, without Kiln's kernels (-Dkiln.onednn.kernels=false)",
                ChildJvm.lastLine(Status.class, environment -> {
                }, "--enable-native-access=ALL-UNNAMED", "-Dkiln.onednn.kernels=false"));
    }

    /**
     * -Dkiln.onednn.kernelIsa=avx2 makes a CPU with AVX-512 use the AVX2 form (so that it can be
     * tested there), and the status says what capped it; avx512 caps nothing below it.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Isa.class)
    void aPropertyCapsTheFormAndTheBackendSaysSo(Isa cap) throws Exception {
        String status = ChildJvm.lastLine(Status.class, environment -> {
        }, "--enable-native-access=ALL-UNNAMED", "-D" + NativeKernels.ISA_PROPERTY + "=" + cap.suffix);
        Optional<Isa> expected = ExpectedKernels.inUse(cap.suffix);
        if (expected.isEmpty()) {
            assertTrue(status.startsWith("oneDNN only"), status);
            return;
        }
        assertTrue(status.startsWith(statusOf(expected.get())), status);
        assertEquals(expected.get() == cap && ExpectedKernels.inUse("").orElseThrow() != cap,
                status.endsWith(", capped by -Dkiln.onednn.kernelIsa=" + cap.suffix), status);
    }

    @Test
    void anIsaThatIsNoFormOfThemIsSaidAndOneDnnComputesEverything() throws Exception {
        assertEquals("oneDNN only, without Kiln's kernels (-Dkiln.onednn.kernelIsa=sse4 names no form of them:"
                + " avx2 or avx512)", ChildJvm.lastLine(Status.class, environment -> {
                }, "--enable-native-access=ALL-UNNAMED", "-D" + NativeKernels.ISA_PROPERTY + "=sse4"));
    }

    /** Runs {@code kernel} as a model on an engine of {@code threads} threads would. */
    private static void onThreads(int threads, Runnable kernel) {
        OneDnnThread.forCount(threads).run(() -> {
            RUNTIME.dnnl.setThreads(threads);
            kernel.run();
        });
    }

    /** Swish of {@code x} by the kernel on {@code threads} OpenMP threads; guards past the end checked. */
    private static float[] swish(NativeKernels kernels, float[] x, int threads) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment guarded = arena.allocate((x.length + 32L) * Float.BYTES, 64);
            MemorySegment data = guarded.asSlice(0, (long) x.length * Float.BYTES);
            MemorySegment.copy(x, 0, data, JAVA_FLOAT, 0, x.length);
            for (int i = x.length; i < x.length + 32; i++) {
                guarded.setAtIndex(JAVA_FLOAT, i, 7f);
            }
            onThreads(threads, () -> kernels.swish(data, x.length));
            for (int i = x.length; i < x.length + 32; i++) {
                assertEquals(7f, guarded.getAtIndex(JAVA_FLOAT, i), "float " + i + " past the end");
            }
            return data.toArray(JAVA_FLOAT);
        }
    }
}
