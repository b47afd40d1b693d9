package com.example.kiln.vendor;

import dev.kiln.Engine;
import dev.kiln.conformance.Case;
import dev.kiln.conformance.CheckResult;
import dev.kiln.conformance.Conformance;
import dev.kiln.conformance.ModelCases;
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

    @Test
    void everyOpCaseItRunsMatchesTheReference() {
        List<String> failures = new ArrayList<>();
        int exercised = 0;
        for (Case c : OpCases.all()) {
            if (!Conformance.runsAnyNode(ENGINE, ExampleBackend.ID, c)) {
                continue; // its op falls back: the case would compare the reference with itself
            }
            exercised++;
            CheckResult r = Conformance.check(ENGINE, ExampleBackend.ID, c);
            if (!r.passed()) {
                failures.add(r.describe());
            }
        }
        System.out.println(ExampleBackend.ID + " ran " + exercised + " of " + OpCases.all().size() + " op cases");
        assertEquals(List.of(), failures);
        assertTrue(exercised >= 20, "the backend runs activations, binary ops, global pooling: " + exercised);
    }

    @Test
    void theSixNetworksMatchTheReferenceWithFallback() {
        for (Case c : ModelCases.representatives()) {
            CheckResult r = Conformance.check(ENGINE, ExampleBackend.ID, c);
            System.out.println(r.summary());
            assertTrue(r.passed(), r::describe);
        }
    }
}
