package dev.kiln.runtime;

import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.EngineOptions;
import dev.kiln.RunProfile;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Partition;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A graph compiled for one set of concrete input shapes: nodes placed on backends, grouped into
 * partitions of consecutive nodes on the same backend, each partition compiled once. Values
 * cross between partitions only at their boundaries: through host tensors (a download by the
 * producer, an upload by each reader), or, for a value that only partitions of the producer's own
 * backend read (a residual branch around a node that fell back elsewhere), handed over in that
 * backend's form when its partitions can ({@link CompiledPartition#handsOverResident()}).
 *
 * <p>Safe for concurrent {@link #run}: each run borrows a run state (host boundary tensors and
 * one workspace per partition) from a pool of at most {@link #concurrentRuns()}, so steady-state
 * runs into bound outputs allocate no tensors. Closing waits for the runs in flight and refuses
 * new ones; every run state is back in the pool by then, so every workspace is closed before the
 * partition that made it.
 *
 * <p>The work is in four parts: {@link PartitionPlanner} places, partitions and compiles
 * ({@link Partitioning}); {@link BoundaryPlan} decides how each value crosses between partitions;
 * {@link PlanRunner} runs the partitions; {@link PlanLifecycle} counts the runs in flight and
 * frees the plan once. This class holds them together and answers for the plan.
 */
public final class ExecutionPlan implements AutoCloseable {
    private final Partitioning parts;
    private final BoundaryPlan boundaries;
    private final PlanRunner runner;
    private final PlanLifecycle lifecycle;
    private final List<PartitionSummary> summaries;

    private ExecutionPlan(Partitioning parts) {
        this.parts = parts;
        this.boundaries = new BoundaryPlan(parts.graph(), parts.shapes(), parts.partitions(), parts.compiled(),
                parts.backends());
        this.runner = new PlanRunner(parts, boundaries);
        this.summaries = List.copyOf(parts.summaries());
        this.lifecycle = new PlanLifecycle(() -> {
            runner.closeIdleStates();
            parts.compiled().forEach(CompiledPartition::close);
        });
    }

    /** Whether any partition computes on the engine's host threads, so that a run belongs on one of them. */
    public boolean computesOnHostThreads() {
        return runner.computesOnHostThreads();
    }

    /**
     * Places, partitions and compiles. A backend other than the last resort whose compilation
     * fails is dropped from the order, with the reason recorded, and placement is redone.
     *
     * @throws dev.kiln.MemoryLimitException when a run would need more memory than {@code options} allow
     */
    public static ExecutionPlan compile(Graph graph, Map<String, Shape> inputShapes, List<BackendRegistry.Entry> order,
                                        Function<Backend, CompileContext> contexts, EngineOptions options) {
        return compile(graph, inputShapes, order, Map.of(), contexts, options);
    }

    /**
     * As {@link #compile(Graph, Map, List, Function, EngineOptions)}, with some nodes pinned to a
     * backend ({@code pins}: backend id by node name). A pinned node is never split or moved: a
     * pinned backend that cannot run its node, or fails to compile its partition, fails the compile.
     */
    public static ExecutionPlan compile(Graph graph, Map<String, Shape> inputShapes, List<BackendRegistry.Entry> order,
                                        Map<String, String> pins, Function<Backend, CompileContext> contexts,
                                        EngineOptions options) {
        return new ExecutionPlan(PartitionPlanner.plan(graph, inputShapes, order, pins, contexts, options));
    }

    /** The memory check {@link #compile} makes first, on its own; see {@link dev.kiln.Engine#checkMemory}. */
    public static void checkMemory(Graph graph, Map<String, Shape> inputShapes, EngineOptions options) {
        Map<String, Shape> shapes = graph.inferShapes(inputShapes);
        MemoryBudget.check(graph, shapes, bind(graph, shapes), options);
    }

    /** What one run at these input shapes needs by the memory check, with no limit: {@link dev.kiln.Engine#memoryPerRun}. */
    public static long memoryPerRun(Graph graph, Map<String, Shape> inputShapes) {
        Map<String, Shape> shapes = graph.inferShapes(inputShapes);
        return MemoryBudget.perRun(graph, shapes, bind(graph, shapes));
    }

    /** Every node with its concrete shapes and constant inputs. */
    public static List<BoundNode> bind(Graph graph, Map<String, Shape> shapes) {
        return PartitionPlanner.bind(graph, shapes);
    }

    public Map<String, Shape> shapes() {
        return parts.shapes();
    }

    public List<NodePlacement> placements() {
        return parts.placements();
    }

    public List<Partition> partitions() {
        return parts.partitions();
    }

    /**
     * The activation memory plan of the whole graph, as if it ran as one partition with the
     * elementwise ops in place: what {@code explain} reports. (Each backend plans its own
     * partitions; the reference backend with this same planner and policy.)
     */
    public MemoryPlan wholeGraphMemoryPlan() {
        Graph graph = parts.graph();
        List<BoundNode> nodes = parts.partitions().stream().flatMap(p -> p.nodes().stream()).toList();
        List<String> inputs = graph.inputs().stream().map(v -> v.name()).toList();
        return MemoryPlanner.plan(nodes, inputs, graph.outputs(), graph.initializers().keySet(),
                MemoryPlanner.ELEMENTWISE);
    }

    /** Values computed by one partition and read by later ones, in partition order, with how each crosses. */
    public List<BoundaryValue> boundaries() {
        return boundaries.values();
    }

    /** What the boundaries have cost the runs of this plan so far. */
    public BoundaryTraffic boundaryTraffic() {
        return runner.traffic();
    }

    /** Per partition: its backend, its compile time, the backend's description and program build. */
    public List<PartitionSummary> partitionSummaries() {
        return summaries;
    }

    /** Backends dropped while compiling, with the reason. */
    public List<String> skippedBackends() {
        return parts.skippedBackends();
    }

    /**
     * The backend this plan runs on: the first of its preference order that was not dropped
     * while compiling (nodes it cannot run fall back to others; {@link #placements()} says which).
     */
    public String primaryBackend() {
        return parts.primaryBackend();
    }

    /**
     * How many runs of this plan may be in flight at once: the engine's
     * {@link EngineOptions#concurrentRuns()}, fewer when that many runs would need more than the
     * memory limit. A run beyond them waits for one to end.
     */
    public int concurrentRuns() {
        return parts.concurrentRuns();
    }

    /** The memory one run needs by the memory check: activations, inputs and outputs, dense float32. */
    public long bytesPerRun() {
        return parts.bytesPerRun();
    }

    public String backendOf(int partition) {
        return parts.backends().get(partition).id();
    }

    /**
     * Runs the graph on inputs already checked against it. Returns newly allocated outputs,
     * owned by the caller, in graph output order.
     *
     * @throws IllegalStateException when the plan is closed (its model closed, or it was dropped
     *                               from the model's cache before this run began)
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        return run(inputs, (RunProfile) null);
    }

    /** As {@link #run(Map)}, adding the run's times to {@code profile} when it is not null. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, RunProfile profile) {
        Map<String, Tensor> outputs = allocateOutputs();
        boolean ok = false;
        try {
            run(inputs, outputs, profile, null, null);
            ok = true;
            return outputs;
        } finally {
            if (!ok) {
                outputs.values().forEach(Tensor::close);
            }
        }
    }

    /** New tensors for the graph outputs, in graph order (an output listed twice is one tensor). */
    public Map<String, Tensor> allocateOutputs() {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        try {
            for (String name : parts.graph().outputs()) {
                if (!outputs.containsKey(name)) {
                    outputs.put(name, Tensor.allocate(parts.shapes().get(name)));
                }
            }
        } catch (RuntimeException | Error e) {
            outputs.values().forEach(Tensor::close);
            throw e;
        }
        return outputs;
    }

    /**
     * Runs the graph on inputs and into outputs already checked against it (every graph output,
     * by name, with its shape). Waits, on the caller's thread, for one of the plan's
     * {@link #concurrentRuns()} run states; then runs on {@code threads} when a partition
     * computes on host threads and {@code threads} is given, else on the caller's thread. A run
     * that {@code control} stops, or that fails, discards its run state (its buffers may hold a
     * half-done run), so the next run starts from fresh ones.
     *
     * @throws dev.kiln.RunCancelledException when {@code control} stops the run
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunProfile profile, RunControl control,
                    HostThreadPool threads) {
        lifecycle.enter();
        try {
            runner.run(inputs, outputs, profile, control, threads);
        } finally {
            lifecycle.leave();
        }
    }

    /** Thrown by {@link #run} once the plan is closed or retired; the model decides what that means to its caller. */
    public static final class Retired extends IllegalStateException {
        Retired() {
            super("the compiled model is closed");
        }
    }

    /** Number of runs executing now. */
    public int runsInFlight() {
        return lifecycle.runsInFlight();
    }

    /**
     * Refuses new runs and frees everything once the runs in flight have finished, without
     * waiting for them: for a plan dropped from a model's cache while another thread runs it.
     */
    public void retire() {
        lifecycle.retire();
    }

    /**
     * Refuses new runs, waits for the runs in flight to finish, then frees every workspace and
     * then the compiled partitions that made them; returns once they are freed, also when the
     * last run of a retired plan frees them on its own thread. Must not be called from inside a
     * run.
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    /** Whether the plan is freed (only once no run is in flight). */
    public boolean isFreed() {
        return lifecycle.isFreed();
    }
}
