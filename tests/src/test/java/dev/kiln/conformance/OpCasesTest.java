package dev.kiln.conformance;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalogue itself: it covers every op and builds valid, runnable graphs. */
class OpCasesTest {
    private static final List<Case> CASES = OpCases.all();
    private static final Set<Class<?>> OPS = new HashSet<>();
    private static final Set<ActivationFunction.Kind> ACTIVATIONS = EnumSet.noneOf(ActivationFunction.Kind.class);
    private static final Set<ActivationFunction.Kind> CONV_ACTIVATIONS = EnumSet.noneOf(ActivationFunction.Kind.class);
    private static final Set<Binary.Kind> BINARIES = EnumSet.noneOf(Binary.Kind.class);
    private static final Set<Class<?>> POST_OPS = new HashSet<>();

    @BeforeAll
    static void collectWhatTheCasesCover() {
        for (Case c : CASES) {
            try (Graph g = c.buildGraph()) {
                for (Node n : g.nodes()) {
                    Op op = n.op();
                    OPS.add(op.getClass());
                    switch (op) {
                        case Activation a -> ACTIVATIONS.add(a.function().kind());
                        case Binary b -> BINARIES.add(b.kind());
                        case Conv conv -> conv.postOps().forEach(p -> {
                            POST_OPS.add(p.getClass());
                            if (p instanceof PostOp.Activate a) {
                                CONV_ACTIVATIONS.add(a.function().kind());
                            }
                        });
                        default -> {
                        }
                    }
                }
            }
        }
    }

    /**
     * Every op of Kiln's own. A provided op is whatever its provider defines, so the catalogue has
     * none; {@code ProvidedOpOnEveryBackendTest} runs one on every backend.
     */
    @Test
    void coversEveryOp() {
        Set<Class<?>> kilnOps = new HashSet<>(Set.of(Op.class.getPermittedSubclasses()));
        assertTrue(kilnOps.remove(ProvidedOp.class), "ProvidedOp is no longer a permitted op: " + kilnOps);
        assertEquals(kilnOps, OPS);
    }

    @Test
    void coversEveryActivationStandaloneAndAsAConvolutionPostOp() {
        assertEquals(EnumSet.allOf(ActivationFunction.Kind.class), ACTIVATIONS);
        assertEquals(EnumSet.allOf(ActivationFunction.Kind.class), CONV_ACTIVATIONS);
    }

    @Test
    void coversEveryBinaryKindAndEveryPostOp() {
        assertEquals(EnumSet.allOf(Binary.Kind.class), BINARIES);
        assertEquals(Set.of(PostOp.class.getPermittedSubclasses()), POST_OPS);
    }

    @Test
    void namesAreUnique() {
        assertEquals(CASES.size(), CASES.stream().map(Case::name).distinct().count());
    }

    /** Every case runs on the reference backend and gives finite outputs that are not all equal. */
    @Test
    void everyCaseRunsOnTheReferenceBackend() {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend()));
        for (Case c : CASES) {
            try (Graph g = c.buildGraph(); CompiledModel model = engine.compile(g, c.compileOptions(ReferenceBackend.ID))) {
                Map<String, Tensor> inputs = c.inputs(g);
                Map<String, Tensor> outputs = model.run(inputs);
                float[] y = outputs.get("y").toFloatArray();
                assertTrue(y.length > 0, c.name());
                assertTrue(allFinite(y), () -> c.name() + " gave non-finite values");
                assertTrue(y.length == 1 || !allEqual(y),
                        () -> c.name() + " gave " + y.length + " equal values: it tests nothing");
                inputs.values().forEach(Tensor::close);
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void inputsAreReproducible() {
        Case c = CASES.getFirst();
        try (Graph g = c.buildGraph()) {
            Map<String, Tensor> first = c.inputs(g);
            Map<String, Tensor> second = c.inputs(g);
            assertTrue(Arrays.equals(first.get("x").toFloatArray(), second.get("x").toFloatArray()));
            first.values().forEach(Tensor::close);
            second.values().forEach(Tensor::close);
        }
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    private static boolean allEqual(float[] values) {
        for (float v : values) {
            if (v != values[0]) {
                return false;
            }
        }
        return true;
    }
}
