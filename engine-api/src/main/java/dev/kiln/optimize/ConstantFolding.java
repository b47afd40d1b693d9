package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates, once, every node whose inputs are all constants and replaces it with constants
 * holding its outputs. Nodes are visited in topological order, so a chain of such nodes folds
 * in one run. The reference backend computes the values, through the backend SPI, so folding
 * gives exactly what running the node would. A node that writes a graph output stays: the
 * graph's outputs remain computed values. A {@link ProvidedOp} stays too (opaque to the passes).
 */
public final class ConstantFolding implements Pass {
    private final ReferenceBackend evaluator = new ReferenceBackend();
    private final CompileContext context = CompileContext.standalone(Device.HOST_CPU);

    @Override
    public String name() {
        return "constant-folding";
    }

    @Override
    public int run(WorkingGraph graph) {
        int folded = 0;
        for (Node n : graph.nodes()) {
            if (!graph.contains(n) || !isFoldable(n, graph)) {
                continue;
            }
            Map<String, Tensor> values = evaluate(n, graph);
            graph.remove(n);
            values.forEach(graph::defineConstant);
            folded++;
        }
        return folded;
    }

    private static boolean isFoldable(Node n, WorkingGraph graph) {
        if (n.op() instanceof ProvidedOp) {
            return false; // a plugin's op is opaque to Kiln's passes, and may have no reference kernel to fold it with
        }
        boolean readsAny = false;
        for (String in : n.inputs()) {
            if (in.isEmpty()) {
                continue;
            }
            if (!graph.isConstant(in)) {
                return false;
            }
            readsAny = true;
        }
        return readsAny && n.outputs().stream().noneMatch(graph::isGraphOutput);
    }

    /** Runs the node alone on the reference backend; a new tensor for each output it names. */
    private Map<String, Tensor> evaluate(Node n, WorkingGraph graph) {
        Map<String, Shape> shapes = new HashMap<>();
        Map<String, Tensor> constants = new LinkedHashMap<>();
        List<Shape> inShapes = new ArrayList<>();
        List<Tensor> inValues = new ArrayList<>();
        for (String in : n.inputs()) {
            Tensor t = in.isEmpty() ? null : graph.constant(in);
            inShapes.add(t == null ? null : t.shape());
            inValues.add(t);
            if (t != null) {
                shapes.put(in, t.shape());
                constants.put(in, t);
            }
        }
        List<Shape> computed = n.op().inferShapes(inShapes);
        List<Shape> outShapes = new ArrayList<>();
        List<String> outNames = new ArrayList<>();
        for (int i = 0; i < n.outputs().size(); i++) {
            // An output the op does not compute (Dropout's mask) has the first output's shape.
            Shape s = i < computed.size() ? computed.get(i) : computed.getFirst();
            outShapes.add(s);
            String out = n.outputs().get(i);
            if (!out.isEmpty()) {
                outNames.add(out);
                shapes.put(out, s);
            }
        }
        BoundNode bound = new BoundNode(n, inShapes, outShapes, inValues);
        Partition partition = new Partition(0, List.of(bound), List.of(), outNames, shapes, constants);
        Map<String, Tensor> values = new LinkedHashMap<>();
        try (CompiledPartition compiled = evaluator.compile(partition, context);
             Workspace workspace = compiled.newWorkspace()) {
            workspace.execute();
            for (int i = 0; i < outNames.size(); i++) {
                Tensor t = Tensor.allocate(shapes.get(outNames.get(i)));
                values.put(outNames.get(i), t);
                workspace.download(i, t);
            }
            return values;
        } catch (RuntimeException e) {
            values.values().forEach(Tensor::close);
            throw e;
        }
    }
}
