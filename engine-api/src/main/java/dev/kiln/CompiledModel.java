package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.runtime.BackendSelection;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.NodePlacement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A graph compiled for a backend choice, ready to run from any number of threads at once.
 * One {@link ExecutionPlan} exists per distinct set of input shapes (batch sizes), compiled on
 * first use and kept; the one for the declared shapes at batch 1 is compiled eagerly so that
 * errors surface at compile time.
 */
public final class CompiledModel implements AutoCloseable {
    private final Graph graph;
    private final BackendSelection selection;
    private final OptimizationReport optimization; // null when compiled without the optimizer
    private final Map<List<Shape>, ExecutionPlan> plans = new ConcurrentHashMap<>();
    private volatile boolean closed;

    CompiledModel(Graph graph, BackendSelection selection, OptimizationReport optimization) {
        this.graph = graph;
        this.selection = selection;
        this.optimization = optimization;
        if (graph.hasFixedShapesBesidesBatch()) {
            plan(graph.inputShapesForBatch(1)); // compile errors surface now, not at the first run
        }
    }

    /** The graph that runs: the optimized one, unless the optimizer was off. */
    public Graph graph() {
        return graph;
    }

    /** What the optimizer did; empty when it was off, or when the input shapes are open beyond the batch. */
    public Optional<OptimizationReport> optimization() {
        return Optional.ofNullable(optimization);
    }

    /** The backend the model runs on, except for nodes that fell back to another. */
    public String backend() {
        return selection.chosen().id();
    }

    /** Why this backend was chosen. */
    public String selectionExplanation() {
        return selection.explanation();
    }

    /** Which node runs where and why, at batch 1. */
    public List<NodePlacement> placements() {
        return plan(graph.inputShapesForBatch(1)).placements();
    }

    /** The plan for one batch size (compiled if it was not yet): partitions, placements, shapes. */
    public ExecutionPlan planForBatch(int batch) {
        return plan(graph.inputShapesForBatch(batch));
    }

    public List<ValueInfo> inputs() {
        return graph.inputs();
    }

    public List<String> outputs() {
        return graph.outputs();
    }

    /**
     * Runs the model. Inputs by graph input name; the caller keeps ownership of them. Returns new
     * tensors, one per graph output in graph order, which the caller must close.
     *
     * @throws InvalidInputException for a missing or extra input, a closed tensor, or a shape
     *                               that does not match the declaration; the model stays usable
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        checkOpen();
        return plan(checkInputs(inputs)).run(inputs);
    }

    /** Runs a model with one input and one output. */
    public Tensor run(Tensor input) {
        if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
            throw new InvalidInputException("run(Tensor) needs a model with one input and one output; this one has "
                    + graph.inputs().size() + " inputs " + names(graph.inputs()) + " and outputs " + graph.outputs());
        }
        return run(Map.of(graph.inputs().getFirst().name(), input)).values().iterator().next();
    }

    private ExecutionPlan plan(Map<String, Shape> shapes) {
        List<Shape> key = new ArrayList<>();
        for (ValueInfo v : graph.inputs()) {
            key.add(shapes.get(v.name()));
        }
        return plans.computeIfAbsent(key, k -> ExecutionPlan.compile(graph, shapes, selection.order()));
    }

    /** The input shapes by name, once every input is checked against its declaration. */
    private Map<String, Shape> checkInputs(Map<String, Tensor> inputs) {
        Set<String> expected = new HashSet<>();
        Map<String, Shape> shapes = new HashMap<>();
        for (ValueInfo v : graph.inputs()) {
            expected.add(v.name());
            Tensor t = inputs.get(v.name());
            if (t == null) {
                throw new InvalidInputException("missing input '" + v.name() + "' " + v.shape() + "; expected inputs "
                        + names(graph.inputs()) + ", got " + inputs.keySet());
            }
            if (t.isClosed()) {
                throw new InvalidInputException("input '" + v.name() + "' is a closed tensor");
            }
            if (t.shape().rank() != v.shape().rank()) {
                throw new InvalidInputException("input '" + v.name() + "' must have rank " + v.shape().rank() + " "
                        + v.shape() + ", got rank " + t.shape().rank() + " " + t.shape());
            }
            if (!v.shape().accepts(t.shape())) {
                throw new InvalidInputException("input '" + v.name() + "' must have shape " + v.shape() + ", got "
                        + t.shape());
            }
            shapes.put(v.name(), t.shape());
        }
        for (String name : inputs.keySet()) {
            if (!expected.contains(name)) {
                throw new InvalidInputException("unexpected input '" + name + "'; expected inputs "
                        + names(graph.inputs()));
            }
        }
        return shapes;
    }

    private static List<String> names(List<ValueInfo> values) {
        return values.stream().map(ValueInfo::toString).toList();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the compiled model is closed");
        }
    }

    /** Frees compiled kernels, buffers and the optimized graph; the caller's graph stays open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        plans.values().forEach(ExecutionPlan::close);
        plans.clear();
        if (optimization != null) {
            optimization.graph().close();
        }
    }
}
