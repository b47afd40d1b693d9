package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Choosing a backend by name, by the kiln.backend property, or automatically; and refusing one that cannot run. */
class BackendChoiceTest {

    /** A backend that says it cannot run here; ranked high, so auto would prefer it if it could. */
    private static final class NoDeviceBackend implements Backend {
        @Override
        public String id() {
            return "no-device";
        }

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Availability availability() {
            return Availability.unavailable("why: no device of this kind is installed");
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return Support.YES;
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            throw new AssertionError("an unavailable backend must never be asked to compile");
        }
    }

    private final Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), new NoDeviceBackend()));
    private Graph graph;
    private String savedProperty;

    @BeforeEach
    void setUp() {
        GraphBuilder b = new GraphBuilder("relu");
        b.input("x", Shape.of(3));
        b.add("y", new Activation(ActivationFunction.RELU), "x");
        b.output("y");
        graph = b.build();
        savedProperty = System.getProperty(Engine.BACKEND_PROPERTY);
    }

    @AfterEach
    void tearDown() {
        if (savedProperty == null) {
            System.clearProperty(Engine.BACKEND_PROPERTY);
        } else {
            System.setProperty(Engine.BACKEND_PROPERTY, savedProperty);
        }
        graph.close();
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    private static void assertRunsRelu(CompiledModel model) {
        try (Tensor x = Tensor.of(Shape.of(3), -1, 0, 2); Tensor y = model.run(x)) {
            assertArrayEquals(new float[] {0, 0, 2}, y.toFloatArray());
        }
    }

    @Test
    void anUnknownNameListsTheKnownBackends() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> engine.compile(graph, "cuda"));
        assertMentions(e.getMessage(), "'cuda'", "reference", "no-device");
    }

    @Test
    void anUnavailableBackendSaysWhy() {
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> engine.compile(graph, "no-device"));
        assertMentions(e.getMessage(), "'no-device'", "why: no device of this kind is installed");
    }

    @Test
    void autoSkipsTheUnavailableBackendAndSaysSo() {
        try (CompiledModel model = engine.compile(graph, Engine.AUTO)) {
            assertEquals(ReferenceBackend.ID, model.backend());
            assertMentions(model.selectionExplanation(), "no-device", "why: no device");
            assertRunsRelu(model);
        }
        assertEquals(ReferenceBackend.ID, engine.autoChoice());
    }

    @Test
    void backendsListsAvailabilityAndReasons() {
        List<Engine.BackendInfo> infos = engine.backends();
        assertEquals(List.of("no-device", ReferenceBackend.ID), infos.stream().map(Engine.BackendInfo::id).toList());
        assertFalse(infos.get(0).available());
        assertMentions(infos.get(0).reason(), "why");
        assertTrue(infos.get(0).devices().isEmpty());
        assertTrue(infos.get(1).available());
    }

    @Test
    void theKilnBackendPropertyChoosesTheBackend() {
        System.setProperty(Engine.BACKEND_PROPERTY, " reference ");
        assertEquals(ReferenceBackend.ID, Engine.configuredBackend());
        try (CompiledModel model = engine.compile(graph)) {
            assertEquals(ReferenceBackend.ID, model.backend());
            assertMentions(model.selectionExplanation(), "explicitly");
            assertRunsRelu(model);
        }
    }

    @Test
    void theKilnBackendPropertyNamingAnUnavailableBackendFails() {
        System.setProperty(Engine.BACKEND_PROPERTY, "no-device");
        assertEquals("no-device", Engine.configuredBackend());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> engine.compile(graph));
        assertMentions(e.getMessage(), "why");
    }

    @Test
    void aBlankPropertyDefersToTheEnvironmentOrAuto() {
        System.setProperty(Engine.BACKEND_PROPERTY, "  ");
        String env = System.getenv(Engine.BACKEND_ENV);
        String expected = env == null || env.isBlank() ? Engine.AUTO : env.trim();
        assertEquals(expected, Engine.configuredBackend());
    }
}
