package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's memory limits: a plan that needs more than {@link EngineOptions#maxMemoryBytes()}
 * for one run, or holds a tensor larger than {@link EngineOptions#maxTensorBytes()}, is refused
 * when it is compiled, with the size needed and the limit, before any backend allocates.
 */
class MemoryLimitTest {
    /** x [N, 3, 1000, 1000] -> Relu -> Sigmoid: 12 MB per tensor at batch 1. */
    private static Graph twoActivations() {
        GraphBuilder b = new GraphBuilder("two-activations");
        b.input("x", Shape.of(Shape.DYNAMIC, 3, 1000, 1000));
        b.add("relu", new Activation(ActivationFunction.RELU), "x");
        b.add("sigmoid", new Activation(ActivationFunction.SIGMOID), "relu");
        b.output("sigmoid");
        return b.build();
    }

    private static final long TENSOR = 3L * 1000 * 1000 * Float.BYTES;

    @Test
    void aPlanOverTheLimitFailsAtCompileWithWhatItNeeds() {
        Engine engine = Engine.withBackends(java.util.List.of(new ReferenceBackend()),
                dev.kiln.spi.KernelRegistry.discover(), EngineOptions.defaults().withMaxMemoryBytes(2 * TENSOR));
        try (Graph g = twoActivations()) {
            MemoryLimitException e = assertThrows(MemoryLimitException.class, () -> engine.compile(g));
            // Both activations run in place of the input's buffer: one buffer, plus the input and the output.
            assertEquals(3 * TENSOR, e.neededBytes());
            assertEquals(2 * TENSOR, e.limitBytes());
            assertTrue(e.getMessage().contains("36.0 MB (36,000,000 bytes)") && e.getMessage().contains(
                    "24.0 MB (24,000,000 bytes)") && e.getMessage().contains("--max-memory"), e.getMessage());
        }
    }

    @Test
    void aPlanWithinTheLimitCompilesAndALargerBatchIsRefusedByItsOwnPlan() {
        Engine engine = Engine.create(EngineOptions.defaults().withMaxMemoryBytes(3 * TENSOR));
        try (Graph g = twoActivations();
             CompiledModel model = engine.compile(g, ReferenceBackend.ID)) {
            MemoryLimitException e = assertThrows(MemoryLimitException.class, () -> model.planForBatch(2));
            assertEquals(6 * TENSOR, e.neededBytes());
            assertThrows(MemoryLimitException.class,
                    () -> engine.checkMemory(g, g.inputShapesForBatch(2)));
            engine.checkMemory(g, g.inputShapesForBatch(1));
        }
    }

    @Test
    void oneTensorOverItsLimitIsNamed() {
        Engine engine = Engine.create(EngineOptions.defaults().withMaxTensorBytes(TENSOR - 1));
        try (Graph g = twoActivations()) {
            MemoryLimitException e = assertThrows(MemoryLimitException.class,
                    () -> engine.compile(g, ReferenceBackend.ID));
            assertTrue(e.getMessage().contains("graph input 'x'") && e.getMessage().contains("[1, 3, 1000, 1000]"),
                    e.getMessage());
            assertEquals(TENSOR, e.neededBytes());
        }
    }

    @Test
    void sizesParseWithBinarySuffixesAndBadOnesNameTheirSource() {
        assertEquals(512L << 20, EngineOptions.parseBytes("512M", "x"));
        assertEquals(4L << 30, EngineOptions.parseBytes("4g", "x"));
        assertEquals(4L << 30, EngineOptions.parseBytes("4GB", "x"));
        assertEquals(1000, EngineOptions.parseBytes("1000", "x"));
        for (String bad : new String[] {"", "lots", "-1G", "0", "9999999T"}) {
            InvalidSettingException e = assertThrows(InvalidSettingException.class,
                    () -> EngineOptions.parseBytes(bad, "environment variable KILN_MAX_MEMORY"));
            assertTrue(e.getMessage().startsWith("environment variable KILN_MAX_MEMORY must be"), e.getMessage());
        }
    }

    @Test
    void theDefaultLimitIsHalfThePhysicalMemoryAtMostTheHeap() {
        long limit = EngineOptions.machineMemoryLimit();
        assertTrue(limit > 0 && limit <= Runtime.getRuntime().maxMemory(), "limit " + limit);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        assertTrue(limit <= os.getTotalMemorySize() / 2, "limit " + limit);
    }
}
