package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkingGraphTest {

    private static Graph sample() {
        GraphFixtures f = new GraphFixtures("sample", 1);
        f.builder().input("x", Shape.of(Shape.DYNAMIC, 3));
        String r = f.add("relu", new Activation(ActivationFunction.RELU), "x");
        String twice = f.add("twice", new Binary(Binary.Kind.ADD), r, r);
        String t = f.add("tanh", new Activation(ActivationFunction.TANH), "x");
        return f.build(twice, t);
    }

    @Test
    void aValueIsOnlyReadByANodeThatReadsItOnceWhenNothingElseDoes() {
        try (Graph g = sample()) {
            WorkingGraph w = new WorkingGraph(g);
            Node relu = w.producer("relu");
            Node twice = w.producer("twice");
            assertFalse(w.isOnlyReadBy("relu", twice), "read twice by the same node");
            assertFalse(w.isOnlyReadBy("x", relu), "also read by tanh");
            assertFalse(w.isOnlyReadBy("tanh", relu), "a graph output");
            assertEquals(2, w.consumers("x").size());
        }
    }

    @Test
    void freshNamesNeverRepeatAValueNameEvenOfARemovedValue() {
        try (Graph g = sample()) {
            WorkingGraph w = new WorkingGraph(g);
            w.remove(w.producer("tanh"));
            String fresh = w.freshName("tanh");
            assertNotEquals("tanh", fresh);
            assertNotEquals(fresh, w.freshName("tanh"));
            w.discard();
        }
    }

    @Test
    void constantsCreatedByPassesAreFreedWhenRemovedOrDiscarded() {
        try (Graph g = sample()) {
            WorkingGraph w = new WorkingGraph(g);
            Tensor removed = Tensor.allocate(2);
            Tensor discarded = Tensor.allocate(2);
            w.removeInitializer(w.addConstant("a", removed));
            w.addConstant("b", discarded);
            assertTrue(removed.isClosed());
            assertFalse(discarded.isClosed());
            w.discard();
            assertTrue(discarded.isClosed());
        }
    }

    @Test
    void isBuiltOnce() {
        try (Graph g = sample()) {
            WorkingGraph w = new WorkingGraph(g);
            w.toGraph().close();
            assertThrows(IllegalStateException.class, w::toGraph);
        }
    }
}
