package dev.kiln.opencl;

import dev.kiln.BackendUnavailableException;
import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.runtime.PartitionSummary;
import dev.kiln.spi.Device;
import dev.kiln.spi.ProgramBuild;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.ServiceLoader;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend on the machine's OpenCL runtime (PoCL in CI, which installs it: these tests need a
 * device and fail, not skip, without one).
 */
class OpenClBackendTest {
    private static final int CHANNELS = 16, SIZE = 12;

    @Test
    void isFoundByServiceLoader() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof OpenClBackend)
                .toList();
        assertEquals(1, found.size());
        assertEquals("opencl", found.getFirst().id());
    }

    @Test
    void findsDevicesWithTheirPropertiesAndRanksByTheFirst() {
        OpenClBackend backend = new OpenClBackend();
        Availability a = backend.availability();
        assertTrue(a.available(), a.reason());
        List<Device> devices = backend.devices();
        assertFalse(devices.isEmpty());
        for (int i = 0; i < devices.size(); i++) {
            Device d = devices.get(i);
            OpenClDeviceInfo info = OpenClRuntime.devices().get(i);
            assertEquals(Integer.toString(i), d.id());
            assertTrue(d.name().startsWith(info.name()) && d.name().contains(info.platformName())
                    && d.name().contains("driver " + info.driverVersion()), d.name());
            assertEquals(info.kind(), d.kind());
            assertEquals(OptionalLong.of(info.globalMemBytes()), d.globalMemoryBytes(), d.toString());
            assertEquals(OptionalInt.of(info.computeUnits()), d.computeUnits(), d.toString());
        }
        OpenClDeviceInfo first = OpenClRuntime.devices().getFirst();
        assertTrue(first.computeUnits() > 0 && first.globalMemBytes() > 0 && first.maxWorkGroup() > 0, first.toString());
        assertEquals(OpenClBackend.rankFor(first.kind()), backend.rank());
    }

    @Test
    void aGpuRanksAboveCpuSimdAndACpuDeviceBetweenCpuSimdAndReference() {
        int cpuSimd = 200;
        assertTrue(OpenClBackend.rankFor(Device.Kind.GPU) > cpuSimd);
        assertTrue(OpenClBackend.rankFor(Device.Kind.ACCELERATOR) > cpuSimd);
        int cpu = OpenClBackend.rankFor(Device.Kind.CPU);
        assertTrue(cpu < cpuSimd && cpu > new ReferenceBackend().rank(), "rank " + cpu);
    }

    @Test
    void askingForAnotherBackendNeverProbesOpenCl() {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new OpenClBackend()));
        try (Graph g = block(); CompiledModel m = engine.compile(g, ReferenceBackend.ID); Tensor x = input(2, 1)) {
            m.run(x).close();
        }
        assertFalse(engine.probed("opencl"), "compiling and running on reference probed opencl");
    }

    @Test
    void aDeviceIsChosenByIndexOrNameAndAnUnknownOneIsNamed() {
        Device first = new OpenClBackend().devices().getFirst();
        String someName = OpenClRuntime.devices().getFirst().name().substring(0, 6);
        try (Graph g = block()) {
            Engine engine = Engine.create();
            for (String wanted : List.of("0", someName)) {
                try (CompiledModel m = engine.compile(g, new CompileOptions("opencl", wanted, true))) {
                    assertEquals(first.name(), m.device());
                }
            }
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> engine.compile(g, new CompileOptions("opencl", "no such device", true)));
            assertTrue(e.getMessage().contains("its devices") && e.getMessage().contains(first.id()), e.getMessage());
        }
    }

    @Test
    void aLaterModelOnTheSameDeviceReusesTheProgramFromMemoryAndSaysHowItWasFirstBuilt() {
        Engine engine = Engine.create();
        try (Graph g = block();
             CompiledModel first = engine.compile(g, "opencl");
             CompiledModel second = engine.compile(g, "opencl")) {
            PartitionSummary a = InternalAccess.plan(first, 1).partitionSummaries().getFirst();
            PartitionSummary b = InternalAccess.plan(second, 1).partitionSummaries().getFirst();
            ProgramBuild built = a.programBuild().orElseThrow();
            ProgramBuild reused = b.programBuild().orElseThrow();
            // The first may have opened the device's context (compiled, or loaded from disk) or
            // found it open from an earlier test; the second always finds it open.
            assertEquals(ProgramBuild.Origin.MEMORY_CACHE, reused.origin(), reused.toString());
            OpenClContext context = OpenClRuntime.context(new OpenClBackend().devices().getFirst()).context();
            assertTrue(reused.note().contains(context.program().describe()), reused.toString());
            assertTrue(a.compileMillis() >= built.millis() && b.compileMillis() >= reused.millis(), a + " " + b);
            assertTrue(b.description().contains("program " + reused.describe()), b.description());
        }
    }

    /** An MBConv-like block: 1x1 expand with SiLU, depthwise with ReLU6, squeeze-excitation, 1x1 project with residual. */
    private static Graph block() {
        SplittableRandom random = new SplittableRandom(11);
        GraphBuilder b = new GraphBuilder("block");
        b.input("x", Shape.of(Shape.DYNAMIC, CHANNELS, SIZE, SIZE));
        int expanded = CHANNELS * 3;
        b.initializer("we", weights(random, expanded, CHANNELS, 1));
        b.initializer("be", Tensor.of(Shape.of(expanded), values(random, expanded)));
        b.initializer("wd", weights(random, expanded, 1, 3));
        b.initializer("w1", weights(random, 4, expanded, 1));
        b.initializer("w2", weights(random, expanded, 4, 1));
        b.initializer("wp", weights(random, CHANNELS, expanded, 1));
        String e = b.add("expand", new Conv(Window.of(1, 1), 1, List.of(new PostOp.Activate(ActivationFunction.SILU))),
                "x", "we", "be");
        String d = b.add("depthwise", new Conv(Window.square(3, 2, 1), expanded,
                List.of(new PostOp.Activate(ActivationFunction.RELU6))), e, "wd");
        String s = b.add("se", new SqueezeExcitation(ActivationFunction.RELU, ActivationFunction.SIGMOID), d, "w1",
                "w2");
        String p = b.add("project", new Conv(Window.of(1, 1), 1), s, "wp");
        b.output(p);
        return b.build();
    }

    private static Tensor weights(SplittableRandom random, int out, int in, int k) {
        return Tensor.of(Shape.of(out, in, k, k), values(random, out * in * k * k));
    }

    private static float[] values(SplittableRandom random, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return v;
    }

    private static Tensor input(long seed, int batch) {
        return Tensor.of(Shape.of(batch, CHANNELS, SIZE, SIZE), values(new SplittableRandom(seed),
                batch * CHANNELS * SIZE * SIZE));
    }

    private static float maxDifference(Tensor a, Tensor b) {
        assertEquals(a.shape(), b.shape());
        float max = 0;
        for (long i = 0; i < a.elementCount(); i++) {
            max = Math.max(max, Math.abs(a.get(i) - b.get(i)));
        }
        return max;
    }

    /**
     * The largest difference relative to the largest |want|: an absolute bound would hold an
     * output of small values to nothing (1e-4 of an output whose values are all near 1e-4).
     */
    private static float relativeDifference(Tensor got, Tensor want) {
        float largest = 0;
        for (long i = 0; i < want.elementCount(); i++) {
            largest = Math.max(largest, Math.abs(want.get(i)));
        }
        assertTrue(largest > 0, "the reference output is all zeros: the comparison would say nothing");
        return maxDifference(got, want) / largest;
    }

    @Test
    void oneCompiledModelRunsFromManyThreadsAndMatchesTheReference() throws Exception {
        Engine engine = Engine.create();
        try (Graph g = block();
             CompiledModel cl = engine.compile(g, "opencl");
             CompiledModel reference = engine.compile(g, ReferenceBackend.ID)) {
            assertEquals(List.of("opencl"), cl.placements().stream().map(p -> p.backend()).distinct().toList());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Float>> differences = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    differences.add(pool.submit(() -> {
                        float worst = 0;
                        for (int batch : new int[] {1, 2}) {
                            try (Tensor x = input(seed, batch); Tensor got = cl.run(x); Tensor want = reference.run(x)) {
                                worst = Math.max(worst, relativeDifference(got, want));
                            }
                        }
                        return worst;
                    }));
                }
                for (Future<Float> f : differences) {
                    float d = f.get(2, TimeUnit.MINUTES);
                    assertTrue(d < 1e-4f, "largest difference from the reference, relative to its largest output, "
                            + d);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void closingTwiceIsHarmlessAndRunningAfterCloseThrows() {
        try (Graph g = block(); Tensor x = input(1, 1)) {
            CompiledModel m = Engine.create().compile(g, "opencl");
            m.run(x).close();
            m.close();
            m.close();
            assertThrows(IllegalStateException.class, () -> m.run(x));
        }
    }

    @Test
    void aWorkspaceClosesOnceAndRefusesWorkAfterwards() {
        try (Graph g = block(); CompiledModel m = Engine.create().compile(g, "opencl")) {
            var partition = new OpenClBackend().compile(InternalAccess.plan(m, 1).partitions().getFirst(),
                    dev.kiln.spi.CompileContext.standalone(new OpenClBackend().devices().getFirst()));
            var workspace = partition.newWorkspace();
            workspace.close();
            workspace.close();
            assertThrows(IllegalStateException.class, workspace::execute);
            partition.close();
            assertThrows(IllegalStateException.class, partition::newWorkspace);
        }
    }

    @Test
    void aTimedRunReportsEveryNodeOnceAndComputesWhatAnUntimedRunDoes() {
        try (Graph g = block(); CompiledModel m = Engine.create().compile(g, "opencl"); Tensor x = input(3, 1)) {
            var plan = InternalAccess.plan(m, 1).partitions().getFirst();
            try (var partition = new OpenClBackend().compile(plan,
                    dev.kiln.spi.CompileContext.standalone(new OpenClBackend().devices().getFirst()));
                 var workspace = partition.newWorkspace();
                 Tensor untimed = Tensor.allocate(plan.nodes().getLast().outputShape());
                 Tensor timed = Tensor.allocate(untimed.shape())) {
                workspace.upload(0, x);
                workspace.execute();
                workspace.download(0, untimed);
                int[] reports = new int[plan.nodes().size()];
                long[] nanos = new long[reports.length];
                workspace.upload(0, x);
                assertTrue(workspace.executeTimed((node, time) -> {
                    reports[node]++;
                    nanos[node] += time;
                }), "the opencl workspace should time its nodes");
                workspace.download(0, timed);
                for (int n = 0; n < reports.length; n++) {
                    assertEquals(1, reports[n], "reports of node " + n);
                    assertTrue(nanos[n] > 0, "time of node " + n);
                }
                assertEquals(0f, maxDifference(untimed, timed));
            }
        }
    }

    /** Main of a child JVM whose ICD loader sees no driver: prints the backend's availability. */
    public static final class Probe {
        public static void main(String[] args) {
            Availability a = new OpenClBackend().availability();
            System.out.println(a.available() + "|" + a.reason());
        }
    }

    @Test
    void withoutAnyOpenClPlatformItIsUnavailableAndSaysWhy() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Probe.class.getName()).redirectErrorStream(true);
        // The ICD loader reads its drivers from this folder: an empty one means no platform.
        Path empty = Files.createTempDirectory("no-icd");
        pb.environment().put("OCL_ICD_VENDORS", empty.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        Files.delete(empty);
        assertEquals(0, p.exitValue(), out);
        String last = out.lines().reduce((x, y) -> y).orElse("");
        assertTrue(last.startsWith("false|") && last.contains("no platform"), out);
    }

    /** Main of a child JVM told to open a loader that is not there: availability, then what it mapped. */
    public static final class ProbeWithoutLoader {
        public static void main(String[] args) throws IOException {
            Availability a = new OpenClBackend().availability();
            boolean joclOrLoaderMapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .anyMatch(line -> line.contains("JOCL") || line.contains("libOpenCL"));
            System.out.println(a.available() + "|" + joclOrLoaderMapped + "|" + a.reason());
        }
    }

    @Test
    void withoutAnIcdLoaderJoclIsNeverTouchedAndNothingIsPrinted() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path missing = Path.of("/nonexistent-kiln-test", "libOpenCL.so.1");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-D" + OpenClLoaderProbe.LIBRARY_PROPERTY + "=" + missing, "-cp",
                System.getProperty("java.class.path"), ProbeWithoutLoader.class.getName());
        Path err = Files.createTempFile("kiln-opencl-probe", ".err");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String stderr = Files.readString(err);
        Files.delete(err);
        assertEquals(0, p.exitValue(), out + "\n" + stderr);
        // One line on stdout, the probe's own: JOCL's native loader would print "Could not load ..." there.
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("false|false|") && out.contains(missing.toString())
                && out.contains("cannot be opened"), out);
    }
}
