package dev.kiln.runtime;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.Binary;
import dev.kiln.reference.ReferenceBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs that list a graph output more than once (or list an input as an output) return one tensor
 * per distinct name, and nothing else stays allocated: after thousands of runs whose outputs are
 * closed, the engine's count of open off-heap tensor bytes is back where it was. (A graph listing
 * the same output twice was reported to leak one output tensor per run.)
 */
class OffHeapLeakTest {
    private static final int RUNS = 1_000;
    private static final Shape SHAPE = Shape.of(1, 2, 32, 32); // 8 KB per tensor

    /** outputs: which values the graph lists, in order, repeats included. */
    private static Graph graph(List<String> outputs) {
        GraphBuilder b = new GraphBuilder("repeated-outputs");
        b.input("x", SHAPE);
        b.add("y", new Activation(ActivationFunction.RELU), "x");
        b.add("z", Binary.ADD, "y", "x");
        outputs.forEach(b::output);
        return b.build();
    }

    @ParameterizedTest(name = "outputs {0}")
    @ValueSource(strings = {"y,y", "y,z,y,z", "x,x,z", "z,y,y"})
    void repeatedOutputsLeaveNoTensorBehind(String listed) {
        List<String> outputs = List.of(listed.split(","));
        try (Graph graph = graph(outputs);
             CompiledModel model = Engine.create().compile(graph, ReferenceBackend.ID);
             Tensor x = Tensor.allocate(SHAPE)) {
            runAndClose(model, x, outputs); // the plan's pooled run state exists after the first run
            long before = Tensor.allocatedBytes();
            for (int i = 0; i < RUNS; i++) {
                runAndClose(model, x, outputs);
            }
            assertEquals(before, Tensor.allocatedBytes(), "off-heap bytes still allocated after " + RUNS + " runs");
        }
    }

    private static void runAndClose(CompiledModel model, Tensor x, List<String> outputs) {
        Map<String, Tensor> out = model.run(Map.of("x", x));
        assertEquals(Set.copyOf(outputs), out.keySet(), "one tensor per distinct output");
        out.values().forEach(Tensor::close);
    }
}
