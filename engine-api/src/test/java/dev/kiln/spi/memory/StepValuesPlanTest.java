package dev.kiln.spi.memory;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link MemoryPlanner#plan(StepValues)}: a backend's own steps, with views, values written in place and external values. */
class StepValuesPlanTest {

    @Test
    void valuesAliveAtDifferentStepsShareABufferAndValuesAliveTogetherDoNot() {
        StepValues p = new StepValues();
        int a = p.add(400);
        int b = p.add(400);
        int c = p.add(400);
        p.liveIn(a).step(a, b).step(b, c).liveOut(c);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertNotEquals(plan.bufferOf(a), plan.bufferOf(b), "read and written by one step");
        assertNotEquals(plan.bufferOf(b), plan.bufferOf(c));
        assertEquals(plan.bufferOf(a), plan.bufferOf(c), "a is dead once step 0 is done");
        assertEquals(List.of(400L, 400L), plan.bufferBytes());
    }

    @Test
    void aViewHasItsRootsBufferAndKeepsTheRootAlive() {
        StepValues p = new StepValues();
        int x = p.add(256);
        int reshaped = p.viewOf(x);
        int y = p.add(256);
        int z = p.add(256);
        // step 0 writes x, step 1 writes y, step 2 reads the view of x: x lives through step 2.
        p.step(x).step(y).step(reshaped, y, z).liveOut(z);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(plan.bufferOf(x), plan.bufferOf(reshaped));
        assertNotEquals(plan.bufferOf(x), plan.bufferOf(y), "x is read after y is written, through its view");
        assertNotEquals(plan.bufferOf(x), plan.bufferOf(z));
        assertEquals(x, p.rootOf(p.viewOf(reshaped)), "a view of a view has the root's storage");
    }

    @Test
    void anOutputWrittenInPlaceOverItsResidualTakesNoBufferOfItsOwn() {
        StepValues p = new StepValues();
        int input = p.add(1000);
        int residual = p.add(1000);
        int conv = p.add(1000);
        int summed = p.viewOf(residual); // the convolution writes its sum into the residual's storage
        int next = p.add(1000);
        p.liveIn(input).step(input, residual).step(residual, conv).step(conv, summed).step(summed, next).liveOut(next);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(plan.bufferOf(residual), plan.bufferOf(summed));
        assertNotEquals(plan.bufferOf(conv), plan.bufferOf(residual));
        assertEquals(plan.bufferOf(input), plan.bufferOf(conv), "the input is dead once step 0 is done");
        assertEquals(plan.bufferOf(conv), plan.bufferOf(next), "conv is dead once step 2 is done");
        assertEquals(2000, plan.plannedBytes());
    }

    @Test
    void externalValuesGetNoBufferAndHoldNone() {
        StepValues p = new StepValues();
        int input = p.add(4096);
        int weights = p.add(8192);
        int alias = p.viewOf(weights);
        int out = p.add(64);
        p.external(input).external(weights).liveIn(input).step(input, alias, out).liveOut(out);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(-1, plan.bufferOf(input), "read in place from the caller's tensor");
        assertEquals(-1, plan.bufferOf(weights), "a constant");
        assertEquals(-1, plan.bufferOf(alias), "a view of a constant");
        assertEquals(List.of(64L), plan.bufferBytes());
    }

    @Test
    void aBufferIsAsLargeAsItsLargestValue() {
        StepValues p = new StepValues();
        int small = p.add(100);
        int large = p.add(900);
        int later = p.add(300);
        p.step(small, large).step(large, later).liveOut(later);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(plan.bufferOf(small), plan.bufferOf(later), "small is dead after step 0");
        assertEquals(1200, plan.plannedBytes());
    }

    /** Placing the largest first (600 bytes) loses to placing values as they are written (500). */
    @Test
    void whereValuesInTheOrderTheyStartNeedLessThatPlanIsKept() {
        StepValues p = new StepValues();
        int a = p.add(300);
        int b = p.add(200);
        int c = p.add(100);
        int d = p.add(200);
        p.step(a).step(b).step(a, c).step(c, d).liveOut(d);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(500, plan.plannedBytes());
        assertEquals(plan.bufferOf(b), plan.bufferOf(c), "c is written after b's last step");
        assertEquals(plan.bufferOf(a), plan.bufferOf(d));
    }

    /** Placing values as they are written (800 bytes) loses to placing the largest first (700). */
    @Test
    void whereTheLargestFirstNeedsLessThatPlanIsKept() {
        StepValues p = new StepValues();
        int a = p.add(300);
        int b = p.add(200);
        int c = p.add(200);
        int d = p.add(300);
        p.step(a).step(a, b).step(c).step(b, c, d).liveOut(d);
        StepMemoryPlan plan = MemoryPlanner.plan(p);
        assertEquals(700, plan.plannedBytes());
        assertEquals(plan.bufferOf(a), plan.bufferOf(d));
    }

    @Test
    void badValuesAreRefusedNamingThem() {
        StepValues p = new StepValues();
        int x = p.add(4);
        int v = p.viewOf(x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.external(v));
        assertEquals("value 1 is a view of 0: only a root can be external", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.step(x, 7));
        assertThrows(IllegalArgumentException.class, () -> p.add(-1));
    }
}
