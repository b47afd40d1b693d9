package com.example.kiln.vendor;

import dev.kiln.Engine;
import dev.kiln.conformance.AllowedFallbacks;
import dev.kiln.conformance.Case;
import dev.kiln.conformance.CheckResult;
import dev.kiln.conformance.Conformance;
import dev.kiln.conformance.ModelCases;
import dev.kiln.conformance.fuzz.FuzzReport;
import dev.kiln.conformance.OpCases;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one test class a vendor adds: Kiln's conformance kit against this backend. */
class ExampleBackendConformanceTest {
    private static final Engine ENGINE = Engine.withBackends(List.of(new ReferenceBackend(), new ExampleBackend()));

    /**
     * What this backend leaves to others, each with the reason. The kit fails a case in which any
     * other node falls back, so a kernel that stops accepting a node it should run is caught
     * rather than passing on the reference backend's output.
     */
    private static final AllowedFallbacks ALLOWED = notImplemented("Conv", "FusedConv", "MaxPool", "AveragePool",
            "Gemm", "FusedGemm", "MatMul", "Concat", "Softmax", "SqueezeExcitation", "BatchNormalization", "LRN", "Pad",
            "Transpose", "Identity", "Dropout")
            .allow(ExampleBackend.ID, AllowedFallbacks.ANY_OP, "broadcasting is not implemented",
                    "the example's binary ops take operands of the output's shape only")
            .allow(ExampleBackend.ID, AllowedFallbacks.ANY_OP, "rank 4 only",
                    "the example pools 4-D feature maps only");

    /** An allowance for each op type this example has no kernel for. */
    private static AllowedFallbacks notImplemented(String... ops) {
        AllowedFallbacks allowed = AllowedFallbacks.none();
        for (String op : ops) {
            allowed = allowed.allow(ExampleBackend.ID, op, "is not implemented",
                    "a minimal example: activations, same-shape binary ops, global pooling, Flatten and Reshape");
        }
        return allowed;
    }

    @Test
    void everyOpCaseItRunsMatchesTheReference() {
        List<String> failures = new ArrayList<>();
        int exercised = 0;
        for (Case c : OpCases.all()) {
            if (Conformance.fallsBackEntirely(ENGINE, ExampleBackend.ID, c, ALLOWED)) {
                continue; // its op falls back, as allowed: the case would compare the reference with itself
            }
            exercised++;
            CheckResult r = Conformance.check(ENGINE, ExampleBackend.ID, c, ALLOWED);
            if (!r.passed()) {
                failures.add(r.describe());
            }
        }
        System.out.println(ExampleBackend.ID + " ran " + exercised + " of " + OpCases.all().size() + " op cases");
        assertEquals(List.of(), failures);
        assertTrue(exercised >= 20, "the backend runs activations, binary ops, global pooling: " + exercised);
    }

    @Test
    void theSixNetworksMatchTheReferenceWithTheAllowedFallbacks() {
        for (Case c : ModelCases.representatives()) {
            CheckResult r = Conformance.check(ENGINE, ExampleBackend.ID, c, ALLOWED);
            System.out.println(r.summary());
            assertTrue(r.passed(), r::describe);
        }
    }

    /**
     * Generated graphs (every op the importer converts, the optimizer's fused forms) on this
     * backend against the reference backend; the nodes it does not take fall back and are not
     * compared. A finding comes with its graph shrunk to a few nodes.
     */
    @Test
    void generatedGraphsMatchTheReference() {
        FuzzReport r = Conformance.fuzz(ENGINE, ExampleBackend.ID, 42, 100);
        assertTrue(r.passed(), () -> r.findings().toString());
        assertEquals(100, r.cases());
        assertTrue(r.targets().getFirst().forms().keySet().stream().anyMatch(f -> f.equals("Relu")),
                "the backend ran no Relu of the generated graphs: " + r.targets().getFirst().forms());
    }
}
