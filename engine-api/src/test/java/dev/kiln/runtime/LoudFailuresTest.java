package dev.kiln.runtime;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Window;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.KernelSupport;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures that used to stay quiet: a backend dropped because its compile threw, a backend or
 * kernel factory that throws while asked what it supports, a fallback where the caller wanted
 * none, and a pool of run states that grew with peak concurrency beyond what the memory check
 * had counted.
 */
class LoudFailuresTest {

    private static Graph convRelu(String name) {
        GraphBuilder b = new GraphBuilder(name);
        b.input("x", Shape.of(Shape.DYNAMIC, 4, 8, 8));
        b.initializer("w", Tensor.allocate(4, 4, 3, 3));
        String c = b.add("conv", new Conv(Window.square(3, 1, 1), 1), "x", "w");
        b.output(b.add("relu", new Activation(ActivationFunction.RELU), c));
        return b.build();
    }

    /** The reference backend under another id, whose compile or capability check throws. */
    private record Faulty(String id, boolean compileThrows, boolean supportsThrows) implements Backend {
        private static final ReferenceBackend REFERENCE = new ReferenceBackend();

        @Override
        public int rank() {
            return 500;
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            if (supportsThrows && node.name().equals("relu")) {
                throw new IllegalStateException("bug in the capability check");
            }
            return REFERENCE.supports(node, context);
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            if (compileThrows) {
                throw new IllegalStateException("bug in the compiler");
            }
            return REFERENCE.compile(partition, context);
        }
    }

    @Test
    void aDroppedBackendIsReportedByTheModelAndWarnedOnce() {
        List<LogRecord> warnings = new ArrayList<>();
        Logger log = Logger.getLogger("dev.kiln.runtime");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (Graph g = convRelu("dropped-backend-graph");
             CompiledModel model = Engine.withBackends(List.of(new Faulty("faulty", true, false),
                     new ReferenceBackend())).compile(g, "faulty");
             Tensor x2 = Tensor.allocate(2, 4, 8, 8)) {
            assertEquals("reference", model.backend(), "the backend that runs the model, not the one that failed");
            assertEquals(1, model.skippedBackends().size(), model.skippedBackends().toString());
            assertTrue(model.skippedBackends().getFirst().startsWith("faulty: compilation failed")
                    && model.skippedBackends().getFirst().contains("bug in the compiler"), model.skippedBackends().toString());
            model.run(x2).close(); // a second plan, batch 2: the same backend fails again, and is not warned again
            assertEquals(1, warnings.size(), "warnings: " + warnings.stream().map(LogRecord::getMessage).toList());
            String warning = java.text.MessageFormat.format(warnings.getFirst().getMessage(),
                    warnings.getFirst().getParameters());
            assertTrue(warning.contains("'faulty'") && warning.contains("dropped-backend-graph")
                    && warning.contains("bug in the compiler"), warning);
        } finally {
            log.removeHandler(capture);
        }
    }

    @Test
    void aThrowingCapabilityCheckIsAnErrorNamingBackendAndNode() {
        try (Graph g = convRelu("throwing-supports")) {
            Engine engine = Engine.withBackends(List.of(new Faulty("faulty", false, true), new ReferenceBackend()));
            // Unoptimized, so that the ReLU stays a node of its own.
            var e = assertThrows(KilnException.class, () -> engine.compile(g, new CompileOptions("faulty", false)));
            assertTrue(e.getMessage().contains("backend 'faulty'") && e.getMessage().contains("relu")
                    && e.getMessage().contains("bug in the capability check"), e.getMessage());
        }
    }

    @Test
    void aThrowingKernelFactoryIsAnErrorNamingFactoryAndNode() {
        KernelFactory<ReferenceKernel> broken = KernelFactory.of(ReferenceKernel.class, "broken-relu", node -> {
            throw new IllegalStateException("bug in the kernel's check");
        }, (node, context) -> null);
        KernelProvider provider = KernelProvider.of("test-provider", ReferenceBackend.ID,
                ReferenceKernel.CONTRACT_VERSION, List.of(broken));
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()),
                KernelRegistry.discover().with(provider), EngineOptions.defaults());
        try (Graph g = convRelu("throwing-factory")) {
            var e = assertThrows(KilnException.class, () -> engine.compile(g, ReferenceBackend.ID));
            assertTrue(e.getMessage().contains("broken-relu") && e.getMessage().contains("test-provider")
                    && e.getMessage().contains("bug in the kernel's check"), e.getMessage());
        }
    }

    @Test
    void strictCompilationRefusesAFallback() {
        TrackingBackend tracking = new TrackingBackend("tracking", 500);
        tracking.refused = Activation.class;
        Engine engine = Engine.withBackends(List.of(tracking, new ReferenceBackend()));
        try (Graph g = convRelu("strict")) {
            try (CompiledModel lenient = engine.compile(g, new CompileOptions("tracking", false))) {
                assertEquals("reference", lenient.placements().get(1).backend());
            }
            var e = assertThrows(KilnException.class, () -> engine.compile(g, new CompileOptions("tracking", false)
                    .withStrict(true)));
            assertTrue(e.getMessage().contains("strict") && e.getMessage().contains("'relu'")
                    && e.getMessage().contains("refused by the test"), e.getMessage());
            assertTrue(tracking.openPartitions.isEmpty(), "the refused plan's partitions are closed");
        }
    }

    @Test
    void runStatesAreBoundedAndRunsBeyondTheBoundWait() throws Exception {
        TrackingBackend tracking = new TrackingBackend("tracking", 500);
        EngineOptions options = EngineOptions.defaults().withConcurrentRuns(2);
        Engine engine = Engine.withBackends(List.of(tracking), KernelRegistry.discover(), options);
        ExecutorService callers = Executors.newFixedThreadPool(6);
        try (Graph g = convRelu("bounded"); CompiledModel model = engine.compile(g, "tracking")) {
            assertEquals(2, model.concurrentRuns());
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                done.add(callers.submit(() -> {
                    try (Tensor x = Tensor.allocate(1, 4, 8, 8)) {
                        for (int i = 0; i < 50; i++) {
                            model.run(x).close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            // One workspace per run state (the model is one partition), however many callers there were.
            assertTrue(tracking.openWorkspaces.size() <= 2, tracking.openWorkspaces.size() + " workspaces");
            assertTrue(tracking.violations.isEmpty(), tracking.violations.toString());
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void theMemoryCheckAllowsOnlyTheRunsThatFitTogether() {
        try (Graph g = convRelu("memory-bound")) {
            long perRun;
            try (CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend())).compile(g, "reference")) {
                perRun = model.planForBatch(1).bytesPerRun();
            }
            EngineOptions roomForThree = EngineOptions.defaults().withConcurrentRuns(8).withMaxMemoryBytes(3 * perRun + 1);
            try (CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend()), KernelRegistry.discover(),
                    roomForThree).compile(g, "reference")) {
                assertEquals(3, model.concurrentRuns());
            }
            EngineOptions roomForOne = EngineOptions.defaults().withMaxMemoryBytes(perRun);
            try (CompiledModel model = Engine.withBackends(List.of(new ReferenceBackend()), KernelRegistry.discover(),
                    roomForOne).compile(g, "reference")) {
                assertEquals(1, model.concurrentRuns());
            }
        }
    }
}
