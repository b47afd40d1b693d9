package dev.kiln.conformance;

import dev.kiln.Engine;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The harness must fail a wrong backend, not only pass a right one. */
class HarnessDetectsFaultsTest {
    private static final Case RELU = OpCases.activations().stream()
            .filter(c -> c.name().equals("Relu [N,20,5,7]")).findFirst().orElseThrow();

    private static CheckResult checkRelu(FaultyReluBackend backend) {
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), backend));
        return Conformance.check(engine, backend.id(), RELU);
    }

    @Test
    void flagsAReluThatReturnsItsInput() {
        CheckResult result = checkRelu(new FaultyReluBackend("relu-is-identity", x -> x));

        assertTrue(result.exercised());
        assertFalse(result.passed(), result::describe);
        // Inputs are uniform in [-8, 8): the worst miss is a negative input passed through, near 8.
        assertTrue(result.maxAbsError() > 7, result::describe);
        assertTrue(result.describe().startsWith("FAILED 'Relu [N,20,5,7]' on relu-is-identity (1/1 nodes"),
                result::describe);
    }

    @Test
    void flagsAnErrorOfATenthOfAPercentOfTheScale() {
        // Inputs reach 8, so max |y_ref| is about 8 and 8e-3 is 1e-3 of the scale: far above the
        // pointwise bound of 16 float32 epsilons (about 2e-6 of the scale).
        CheckResult result = checkRelu(new FaultyReluBackend("relu-plus-8e-3", x -> Math.max(x, 0) + 8e-3));

        assertFalse(result.passed(), result::describe);
        assertEquals(8e-3, result.maxAbsError(), 1e-5);
    }

    @Test
    void passesAnErrorOfOneUlpOfTheScale() {
        // A difference a float32 kernel could legitimately make, which must not be flagged.
        CheckResult result = checkRelu(new FaultyReluBackend("relu-plus-one-ulp", x -> x > 0 ? x + Math.ulp(8f) : 0));

        assertTrue(result.passed(), result::describe);
        assertTrue(result.maxAbsError() > 0, result::describe);
    }

    @Test
    void flagsNaNOutputs() {
        CheckResult result = checkRelu(new FaultyReluBackend("relu-nan", x -> x > 7.9 ? Double.NaN : Math.max(x, 0)));

        assertFalse(result.passed(), result::describe);
        assertEquals(Double.POSITIVE_INFINITY, result.maxAbsError());
    }

    @Test
    void reportsACaseTheBackendDoesNotRunAsNotExercised() {
        Case sigmoid = OpCases.activations().stream().filter(c -> c.name().startsWith("Sigmoid")).findFirst()
                .orElseThrow();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(),
                new FaultyReluBackend("relu-is-identity", x -> x)));

        CheckResult result = Conformance.check(engine, "relu-is-identity", sigmoid);

        assertFalse(result.exercised());
        assertEquals(0, result.nodesOnBackend());
    }

    /**
     * A node left to another backend fails the check even though the values, then the reference
     * backend's own, match: placement is part of conformance. An allowance written by the
     * caller, for that op and that refusal, lets it pass and says why.
     */
    @Test
    void failsACaseTheBackendLeavesToAnotherUnlessAllowed() {
        Case sigmoid = OpCases.activations().stream().filter(c -> c.name().startsWith("Sigmoid")).findFirst()
                .orElseThrow();
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(),
                new FaultyReluBackend("relu-only", x -> Math.max(x, 0))));

        CheckResult strict = Conformance.check(engine, "relu-only", sigmoid);
        assertFalse(strict.passed(), strict::describe);
        assertFalse(strict.placedAsRequired());
        assertEquals(0, strict.maxAbsError(), strict::describe);
        assertTrue(strict.unexpectedFallbacks().getFirst().contains("ran on reference"), strict::describe);
        assertFalse(Conformance.fallsBackEntirely(engine, "relu-only", sigmoid, AllowedFallbacks.none()));

        AllowedFallbacks otherRefusal = AllowedFallbacks.none().allow("relu-only", "Sigmoid", "only Sigmoid", "never");
        assertFalse(Conformance.check(engine, "relu-only", sigmoid, otherRefusal).passed(),
                "an allowance for another refusal of the op allowed this one");
        AllowedFallbacks otherBackend = AllowedFallbacks.none().allow("relu-is-identity", "Sigmoid", "not this one");
        assertFalse(Conformance.check(engine, "relu-only", sigmoid, otherBackend).passed(),
                "an allowance for another backend allowed this one");

        AllowedFallbacks allowed = AllowedFallbacks.none().allow("relu-only", "Sigmoid", "only Relu",
                "the test backend runs Relu alone");
        CheckResult lenient = Conformance.check(engine, "relu-only", sigmoid, allowed);
        assertTrue(lenient.passed(), lenient::describe);
        assertTrue(lenient.describe().contains("the test backend runs Relu alone"), lenient::describe);
        assertTrue(Conformance.fallsBackEntirely(engine, "relu-only", sigmoid, allowed));
    }

    /** The backend's own refusal is read out of the placement reason, parentheses and all. */
    @Test
    void readsTheBackendsOwnRefusalOutOfAPlacementReason() {
        String reason = "fallback: a cannot run it (conv: not a Conv (or a Gemm)); b cannot run it (shape [2, 3])";
        assertEquals("conv: not a Conv (or a Gemm)", AllowedFallbacks.refusalOf("a", reason));
        assertEquals("shape [2, 3]", AllowedFallbacks.refusalOf("b", reason));
        assertEquals(reason, AllowedFallbacks.refusalOf("c", reason));
    }

    @Test
    void refusesAnEngineWithoutTheReferenceBackend() {
        Engine engine = Engine.withBackends(List.of(new FaultyReluBackend("relu-only", x -> Math.max(x, 0))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conformance.check(engine, "relu-only", RELU));
        assertTrue(e.getMessage().contains("reference"), e.getMessage());
    }

    @Test
    void sharedReferenceOutputsGiveTheSameVerdicts() {
        FaultyReluBackend wrong = new FaultyReluBackend("relu-plus-8e-3", x -> Math.max(x, 0) + 8e-3);
        FaultyReluBackend right = new FaultyReluBackend("relu-plus-one-ulp", x -> x > 0 ? x + Math.ulp(8f) : 0);
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), wrong, right));
        ReferenceOutputs expected = Conformance.referenceOutputs(engine, RELU);

        CheckResult wrongResult = Conformance.check(engine, wrong.id(), RELU, expected);
        CheckResult rightResult = Conformance.check(engine, right.id(), RELU, expected);

        assertFalse(wrongResult.passed(), wrongResult::describe);
        assertEquals(8e-3, wrongResult.maxAbsError(), 1e-5);
        assertTrue(rightResult.passed(), rightResult::describe);
        assertEquals(Conformance.check(engine, right.id(), RELU).maxAbsError(), rightResult.maxAbsError());
    }

    @Test
    void refusesReferenceOutputsOfAnotherCase() {
        Case sigmoid = OpCases.activations().stream().filter(c -> c.name().startsWith("Sigmoid")).findFirst()
                .orElseThrow();
        FaultyReluBackend backend = new FaultyReluBackend("relu", x -> Math.max(x, 0));
        Engine engine = Engine.withBackends(List.of(new ReferenceBackend(), backend));
        ReferenceOutputs ofSigmoid = Conformance.referenceOutputs(engine, sigmoid);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conformance.check(engine, backend.id(), RELU, ofSigmoid));
        assertTrue(e.getMessage().contains(sigmoid.name()) && e.getMessage().contains(RELU.name()), e.getMessage());
    }
}
