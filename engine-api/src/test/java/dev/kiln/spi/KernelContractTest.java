package dev.kiln.spi;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.PlanReport;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel provider built for another version of its backend's kernel contract is refused as it
 * arrives, named with both versions, and none of its kernels runs, even where it bids highest.
 */
class KernelContractTest {
    private static final int ABOVE_EVERYONE = KernelSupport.DEFAULT_PRIORITY + 1000;

    /** A Relu kernel for the reference backend that bids above the backend's own, declaring {@code version}. */
    private static KernelProvider reluProvider(String name, int version) {
        KernelFactory<ReferenceKernel> relu = KernelFactory.of(ReferenceKernel.class, "stale-relu",
                node -> node.op() instanceof Activation ? KernelSupport.withPriority(ABOVE_EVERYONE)
                        : KernelSupport.no("only activations"),
                (node, context) -> (in, out) -> {
                    throw new AssertionError("a refused provider's kernel ran");
                });
        return KernelProvider.of(name, ReferenceBackend.ID, version, List.of(relu));
    }

    @Test
    void theReferenceKernelInterfaceDeclaresItsContract() {
        assertEquals(ReferenceKernel.CONTRACT_VERSION,
                ReferenceKernel.class.getAnnotation(KernelContract.class).version());
    }

    @Test
    void aProviderOfTheCurrentVersionIsUsed() {
        KernelRegistry registry = new KernelRegistry(List.of(reluProvider("current", ReferenceKernel.CONTRACT_VERSION)));
        assertEquals(List.of("current"), registry.kernels(ReferenceBackend.ID, ReferenceKernel.class).stream()
                .map(KernelRegistry.Registered::provider).toList());
        assertEquals(List.of(), registry.loadFailures());
    }

    @Test
    void aProviderOfAnotherVersionIsRefusedNamingItAndBothVersions() {
        int other = ReferenceKernel.CONTRACT_VERSION + 1;
        KernelRegistry registry = KernelRegistry.discover().with(reluProvider("acme-kernels", other));
        assertTrue(registry.kernels(ReferenceBackend.ID, ReferenceKernel.class).stream()
                .noneMatch(r -> r.provider().equals("acme-kernels")));
        String refusal = registry.loadFailures().stream().filter(f -> f.contains("acme-kernels")).findFirst()
                .orElseThrow(() -> new AssertionError("no refusal in " + registry.loadFailures()));
        assertTrue(refusal.contains("version " + other) && refusal.contains("version " + ReferenceKernel.CONTRACT_VERSION)
                && refusal.contains("ReferenceKernel") && refusal.contains("'" + ReferenceBackend.ID + "'"), refusal);

        // Compiled with it: the backend's own kernel runs (the refused one would throw), and the model works.
        GraphBuilder b = new GraphBuilder("relu");
        b.input("x", Shape.of(1, 4));
        b.add("relu", new Activation(ActivationFunction.RELU), "x");
        b.output("relu");
        try (Engine engine = Engine.withBackends(List.of(new ReferenceBackend()), registry, EngineOptions.defaults());
             Graph g = b.build(); CompiledModel model = engine.compile(g, ReferenceBackend.ID);
             Tensor x = Tensor.of(Shape.of(1, 4), new float[]{-1, 2, -3, 4});
             Tensor y = model.run(x)) {
            PlanReport.Placement placed = model.placements().getFirst();
            assertEquals("reference", placed.provider(), placed.toString());
            assertEquals(4, y.toFloatArray().length); // it ran: the refused kernel would have thrown
        }
    }

    @Test
    void aProviderBuiltBeforeContractsWereVersionedIsRefused() {
        KernelProvider current = reluProvider("old-kernels", ReferenceKernel.CONTRACT_VERSION);
        // A class compiled before contractVersion() existed throws AbstractMethodError when it is called.
        KernelProvider old = (KernelProvider) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{KernelProvider.class}, (proxy, method, args) -> {
                    if (method.getName().equals("contractVersion")) {
                        throw new AbstractMethodError("contractVersion");
                    }
                    return method.invoke(current, args);
                });
        KernelRegistry registry = new KernelRegistry(List.of(old));
        assertEquals(List.of(), registry.kernels(ReferenceBackend.ID, ReferenceKernel.class));
        assertEquals(1, registry.loadFailures().size());
        assertTrue(registry.loadFailures().getFirst().contains("'old-kernels'")
                && registry.loadFailures().getFirst().contains("declares no kernel contract version"),
                registry.loadFailures().getFirst());
    }

    @Test
    void aProviderThatThrowsWhileItsContractIsCheckedIsRefusedNotFatal() {
        KernelProvider current = reluProvider("broken-kernels", ReferenceKernel.CONTRACT_VERSION);
        KernelProvider broken = (KernelProvider) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{KernelProvider.class}, (proxy, method, args) -> {
                    if (method.getName().equals("kernels")) {
                        throw new IllegalStateException("cannot list its kernels");
                    }
                    return method.invoke(current, args);
                });
        KernelRegistry registry = KernelRegistry.discover().with(broken);
        assertTrue(registry.loadFailures().stream().anyMatch(f -> f.contains(broken.getClass().getName())
                && f.contains("cannot list its kernels")), registry.loadFailures().toString());
        // The registry still serves the backend's own kernels.
        assertTrue(registry.kernels(ReferenceBackend.ID, ReferenceKernel.class).stream()
                .anyMatch(r -> r.provider().equals("reference")));
    }
}
