package dev.kiln.runtime;

import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.RunProfile;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A graph compiled for one set of concrete input shapes: nodes placed on backends, grouped into
 * partitions of consecutive nodes on the same backend, each partition compiled once. Values
 * cross between partitions only at their boundaries: through host tensors (a download by the
 * producer, an upload by each reader), or, for a value that only partitions of the producer's own
 * backend read (a residual branch around a node that fell back elsewhere), handed over in that
 * backend's form when its partitions can ({@link CompiledPartition#handsOverResident()}).
 *
 * <p>Safe for concurrent {@link #run}: each run borrows a {@link RunState} (host boundary
 * tensors and one workspace per partition) from a pool of at most {@link #concurrentRuns()}, so
 * steady-state runs into bound outputs allocate no tensors. Closing waits for the runs in flight
 * and refuses new ones; every run state is back in the pool by then, so every workspace is closed
 * before the partition that made it.
 */
public final class ExecutionPlan implements AutoCloseable {
    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final List<Partition> partitions;
    private final List<CompiledPartition> compiled;
    private final List<Backend> partitionBackends;
    private final List<NodePlacement> placements;
    private final Map<String, NodePlacement> placementOf = new HashMap<>();
    private final List<String> skipped;
    private final List<BoundaryValue> boundaries;
    private final Crossings crossings;
    private final LongAdder runs = new LongAdder();
    private final LongAdder hostTransfers = new LongAdder();
    private final LongAdder hostBytes = new LongAdder();
    private final LongAdder residentHandovers = new LongAdder();
    private final List<PartitionSummary> summaries;
    private final boolean computesOnHostThreads;
    /** Run states not in use (guarded by itself); at most {@link #concurrentRuns} exist at once. */
    private final RunState[] idle;
    private int idleCount;
    /** One permit per run state the plan may hold: a run beyond them waits for one. */
    private final Semaphore permits;
    private final int concurrentRuns;
    private final long bytesPerRun;
    private final String primaryBackend;
    private final Object lifecycle = new Object();
    private int inFlight;
    private boolean closing;
    private boolean freed;
    /** Whether {@link #free()} has finished, on whichever thread ran it. */
    private boolean released;

    private ExecutionPlan(Graph graph, Map<String, Shape> shapes, List<Partition> partitions,
                          List<CompiledPartition> compiled, List<Backend> partitionBackends,
                          List<NodePlacement> placements, List<String> skipped, List<PartitionSummary> summaries,
                          long bytesPerRun, int concurrentRuns, String primaryBackend) {
        this.graph = graph;
        this.primaryBackend = primaryBackend;
        this.bytesPerRun = bytesPerRun;
        this.concurrentRuns = concurrentRuns;
        this.idle = new RunState[concurrentRuns];
        this.permits = new Semaphore(concurrentRuns);
        this.shapes = shapes;
        this.partitions = partitions;
        this.compiled = compiled;
        this.partitionBackends = partitionBackends;
        this.placements = placements;
        this.skipped = skipped;
        placements.forEach(placed -> placementOf.put(placed.node(), placed));
        this.boundaries = boundaries(graph, shapes, partitions, compiled, partitionBackends);
        this.crossings = new Crossings(partitions, boundaries);
        this.summaries = List.copyOf(summaries);
        this.computesOnHostThreads = compiled.stream().anyMatch(CompiledPartition::computesOnHostThreads);
    }

    /** Whether any partition computes on the engine's host threads, so that a run belongs on one of them. */
    public boolean computesOnHostThreads() {
        return computesOnHostThreads;
    }

    /**
     * Every value computed by one partition and read by another, and whether it stays resident:
     * the producer and all readers on one backend (one device per backend in a compiled model),
     * all of them handing values over, and the value not a graph output.
     */
    private static List<BoundaryValue> boundaries(Graph graph, Map<String, Shape> shapes, List<Partition> partitions,
                                                  List<CompiledPartition> compiled, List<Backend> backends) {
        Set<String> graphOutputs = new HashSet<>(graph.outputs());
        List<BoundaryValue> values = new ArrayList<>();
        for (int p = 0; p < partitions.size(); p++) {
            for (String v : partitions.get(p).outputs()) {
                List<Integer> readers = new ArrayList<>();
                boolean sameBackend = compiled.get(p).handsOverResident();
                for (int q = p + 1; q < partitions.size(); q++) {
                    if (partitions.get(q).inputs().contains(v)) {
                        readers.add(q);
                        sameBackend &= backends.get(q) == backends.get(p) && compiled.get(q).handsOverResident();
                    }
                }
                if (!readers.isEmpty()) {
                    boolean output = graphOutputs.contains(v);
                    values.add(new BoundaryValue(v, p, readers, shapes.get(v).elementCount() * Float.BYTES, output,
                            sameBackend && !output));
                }
            }
        }
        return List.copyOf(values);
    }

    /**
     * The boundary values by partition input and output index, so a run looks nothing up by
     * name: which resident value each is (-1 for none), and which transfers count as the
     * boundary's traffic with how many bytes.
     */
    private static final class Crossings {
        final int[][] residentIn;
        final int[][] residentOut;
        final long[][] countedIn;
        final long[][] countedOut;
        final int[] producer;
        final int[] producerOutput;

        Crossings(List<Partition> partitions, List<BoundaryValue> boundaries) {
            int n = partitions.size();
            residentIn = new int[n][];
            residentOut = new int[n][];
            countedIn = new long[n][];
            countedOut = new long[n][];
            for (int p = 0; p < n; p++) {
                residentIn[p] = filled(partitions.get(p).inputs().size());
                residentOut[p] = filled(partitions.get(p).outputs().size());
                countedIn[p] = new long[partitions.get(p).inputs().size()];
                countedOut[p] = new long[partitions.get(p).outputs().size()];
            }
            List<BoundaryValue> resident = boundaries.stream().filter(BoundaryValue::resident).toList();
            producer = new int[resident.size()];
            producerOutput = new int[resident.size()];
            for (BoundaryValue b : boundaries) {
                int r = resident.indexOf(b);
                int out = partitions.get(b.producer()).outputs().indexOf(b.name());
                residentOut[b.producer()][out] = r;
                countedOut[b.producer()][out] = b.graphOutput() ? 0 : b.hostBytes();
                if (r >= 0) {
                    producer[r] = b.producer();
                    producerOutput[r] = out;
                }
                for (int q : b.consumers()) {
                    int in = partitions.get(q).inputs().indexOf(b.name());
                    residentIn[q][in] = r;
                    countedIn[q][in] = b.hostBytes();
                }
            }
        }

        int residentCount() {
            return producer.length;
        }

        private static int[] filled(int length) {
            int[] a = new int[length];
            Arrays.fill(a, -1);
            return a;
        }
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
        Map<String, Shape> original = graph.inferShapes(inputShapes);
        Backend first = order.stream().filter(BackendRegistry.Entry::available).findFirst()
                .orElseThrow(() -> new KilnException("no backend is available")).backend();
        FusedFormSplitting.Result split = FusedFormSplitting.apply(graph, original, first, contexts.apply(first),
                pins.keySet());
        graph = split.graph();
        Map<String, Shape> shapes = split.notes().isEmpty() ? original : graph.inferShapes(inputShapes);
        List<BoundNode> bound = bind(graph, shapes);
        long bytesPerRun = MemoryBudget.check(graph, shapes, bound, options); // before any backend allocates
        int concurrentRuns = MemoryBudget.concurrentRuns(bytesPerRun, options);
        List<BackendRegistry.Entry> remaining = new ArrayList<>(order);
        List<String> skipped = new ArrayList<>();
        while (true) {
            List<Placer.Assignment> assignments = Placer.assign(bound, remaining, contexts, pins);
            List<List<Placer.Assignment>> groups = group(assignments);
            List<Partition> partitions = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                partitions.add(partition(i, groups.get(i), graph, shapes));
            }
            List<CompiledPartition> compiled = new ArrayList<>();
            List<Double> compileMillis = new ArrayList<>();
            Backend failed = null;
            for (int i = 0; i < partitions.size(); i++) {
                Backend b = groups.get(i).getFirst().backend();
                try {
                    long started = System.nanoTime();
                    compiled.add(b.compile(partitions.get(i), contexts.apply(b)));
                    compileMillis.add((System.nanoTime() - started) / 1e6);
                } catch (RuntimeException | LinkageError e) {
                    compiled.forEach(CompiledPartition::close);
                    if (pins.containsValue(b.id())) {
                        throw new KilnException("backend '" + b.id() + "', to which nodes are pinned, failed to"
                                + " compile partition " + i + " of graph '" + graph.name() + "': " + e.getMessage(), e);
                    }
                    if (remaining.size() == 1 || b == remaining.getLast().backend()) {
                        throw new KilnException("backend '" + b.id() + "' failed to compile partition " + i
                                + " of graph '" + graph.name() + "': " + e.getMessage(), e);
                    }
                    skipped.add(b.id() + ": compilation failed: " + e);
                    DroppedBackendWarning.warnOnce(b.id(), graph.name(), i, e);
                    failed = b;
                    break;
                }
            }
            if (failed != null) {
                Backend dropped = failed;
                remaining.removeIf(e -> e.backend() == dropped);
                continue;
            }
            List<NodePlacement> placements = new ArrayList<>();
            List<Backend> partitionBackends = new ArrayList<>();
            for (int i = 0; i < groups.size(); i++) {
                partitionBackends.add(groups.get(i).getFirst().backend());
                Map<String, NodeKernel> kernels = new HashMap<>();
                compiled.get(i).kernels().forEach(k -> kernels.put(k.node(), k));
                for (Placer.Assignment a : groups.get(i)) {
                    Node n = a.node().node();
                    NodeKernel k = kernels.getOrDefault(n.name(), new NodeKernel(n.name(), "", "", ""));
                    String note = split.notes().get(n.name());
                    placements.add(new NodePlacement(n.name(), n.op().type(), a.backend().id(), i,
                            note == null ? a.reason() : a.reason() + " (" + note + ")", k.kernel(), k.provider(),
                            k.algorithm()));
                }
            }
            List<PartitionSummary> summaries = new ArrayList<>();
            for (int i = 0; i < partitions.size(); i++) {
                summaries.add(new PartitionSummary(i, partitionBackends.get(i).id(), partitions.get(i).nodes().size(),
                        compileMillis.get(i), compiled.get(i).describe(), compiled.get(i).programBuild()));
            }
            // A graph with no node to run (an input passed straight to an output) has no partition.
            String primary = remaining.stream().filter(BackendRegistry.Entry::available).findFirst()
                    .map(BackendRegistry.Entry::id)
                    .orElseGet(() -> partitionBackends.isEmpty() ? order.getFirst().id() : partitionBackends.getFirst().id());
            return new ExecutionPlan(graph, shapes, partitions, compiled, partitionBackends, placements, skipped,
                    summaries, bytesPerRun, concurrentRuns, primary);
        }
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
        List<BoundNode> bound = new ArrayList<>();
        for (Node n : graph.nodes()) {
            List<Shape> in = new ArrayList<>();
            List<Tensor> constants = new ArrayList<>();
            for (String v : n.inputs()) {
                in.add(v.isEmpty() ? null : shapes.get(v));
                constants.add(v.isEmpty() ? null : graph.initializers().get(v));
            }
            List<Shape> out = new ArrayList<>();
            for (String v : n.outputs()) {
                out.add(v.isEmpty() ? null : shapes.get(v));
            }
            bound.add(new BoundNode(n, in, out, constants));
        }
        return bound;
    }

    /** Maximal runs of consecutive nodes (in topological order) on the same backend. */
    private static List<List<Placer.Assignment>> group(List<Placer.Assignment> assignments) {
        List<List<Placer.Assignment>> groups = new ArrayList<>();
        for (Placer.Assignment a : assignments) {
            if (groups.isEmpty() || groups.getLast().getFirst().backend() != a.backend()) {
                groups.add(new ArrayList<>());
            }
            groups.getLast().add(a);
        }
        return groups;
    }

    private static Partition partition(int index, List<Placer.Assignment> group, Graph graph,
                                       Map<String, Shape> shapes) {
        Set<String> produced = new HashSet<>();
        Set<Node> members = new HashSet<>();
        for (Placer.Assignment a : group) {
            members.add(a.node().node());
            produced.addAll(a.node().node().outputs());
        }
        Set<String> inputs = new LinkedHashSet<>();
        Map<String, Tensor> constants = new LinkedHashMap<>();
        Set<String> outputs = new LinkedHashSet<>();
        Map<String, Shape> partShapes = new HashMap<>();
        Set<String> graphOutputs = new HashSet<>(graph.outputs());
        for (Placer.Assignment a : group) {
            Node n = a.node().node();
            for (String v : n.inputs()) {
                if (v.isEmpty()) {
                    continue;
                }
                partShapes.put(v, shapes.get(v));
                if (graph.isConstant(v) && graph.input(v) == null) {
                    constants.put(v, graph.initializers().get(v));
                } else if (!produced.contains(v)) {
                    inputs.add(v);
                }
            }
            for (String v : n.outputs()) {
                if (v.isEmpty()) {
                    continue;
                }
                partShapes.put(v, shapes.get(v));
                boolean leaves = graphOutputs.contains(v)
                        || graph.consumers(v).stream().anyMatch(c -> !members.contains(c));
                if (leaves) {
                    outputs.add(v);
                }
            }
        }
        List<BoundNode> nodes = group.stream().map(Placer.Assignment::node).toList();
        return new Partition(index, nodes, List.copyOf(inputs), List.copyOf(outputs), Map.copyOf(partShapes),
                constants);
    }

    public Map<String, Shape> shapes() {
        return shapes;
    }

    public List<NodePlacement> placements() {
        return placements;
    }

    public List<Partition> partitions() {
        return partitions;
    }

    /**
     * The activation memory plan of the whole graph, as if it ran as one partition with the
     * elementwise ops in place: what {@code explain} reports. (Each backend plans its own
     * partitions; the reference backend with this same planner and policy.)
     */
    public MemoryPlan wholeGraphMemoryPlan() {
        List<BoundNode> nodes = partitions.stream().flatMap(p -> p.nodes().stream()).toList();
        List<String> inputs = graph.inputs().stream().map(v -> v.name()).toList();
        return MemoryPlanner.plan(nodes, inputs, graph.outputs(), graph.initializers().keySet(),
                MemoryPlanner.ELEMENTWISE);
    }

    /** Values computed by one partition and read by later ones, in partition order, with how each crosses. */
    public List<BoundaryValue> boundaries() {
        return boundaries;
    }

    /** What the boundaries have cost the runs of this plan so far. */
    public BoundaryTraffic boundaryTraffic() {
        return new BoundaryTraffic(runs.sum(), hostTransfers.sum(), hostBytes.sum(), residentHandovers.sum());
    }

    /** Per partition: its backend, its compile time, the backend's description and program build. */
    public List<PartitionSummary> partitionSummaries() {
        return summaries;
    }

    /** Backends dropped while compiling, with the reason. */
    public List<String> skippedBackends() {
        return skipped;
    }

    /**
     * The backend this plan runs on: the first of its preference order that was not dropped
     * while compiling (nodes it cannot run fall back to others; {@link #placements()} says which).
     */
    public String primaryBackend() {
        return primaryBackend;
    }

    /**
     * How many runs of this plan may be in flight at once: the engine's
     * {@link EngineOptions#concurrentRuns()}, fewer when that many runs would need more than the
     * memory limit. A run beyond them waits for one to end.
     */
    public int concurrentRuns() {
        return concurrentRuns;
    }

    /** The memory one run needs by the memory check: activations, inputs and outputs, dense float32. */
    public long bytesPerRun() {
        return bytesPerRun;
    }

    public String backendOf(int partition) {
        return partitionBackends.get(partition).id();
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
            for (String name : graph.outputs()) {
                if (!outputs.containsKey(name)) {
                    outputs.put(name, Tensor.allocate(shapes.get(name)));
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
        acquire();
        try {
            admit(control);
            try {
                if (threads != null && computesOnHostThreads) {
                    threads.call(() -> {
                        runOnThisThread(inputs, outputs, profile, control);
                        return null;
                    });
                } else {
                    runOnThisThread(inputs, outputs, profile, control);
                }
            } finally {
                permits.release();
            }
        } finally {
            release();
        }
    }

    /** Waits for a free run state's permit, giving up when {@code control} stops the run. */
    private void admit(RunControl control) {
        if (permits.tryAcquire()) {
            return;
        }
        boolean interrupted = false;
        try {
            while (true) {
                if (control != null) {
                    control.check();
                }
                try {
                    if (permits.tryAcquire(control == null ? 1000 : 2, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true; // as HostThreadPool.await: the run goes on, the interrupt is kept
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void runOnThisThread(Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunProfile profile,
                                 RunControl control) {
        RunControl previous = RunControl.enter(control);
        RunState state = null;
        synchronized (idle) {
            if (idleCount > 0) {
                state = idle[--idleCount];
                idle[idleCount] = null;
            }
        }
        boolean ok = false;
        try {
            if (state == null) {
                state = new RunState();
            }
            runWith(state, inputs, outputs, profile, control);
            ok = true;
        } finally {
            RunControl.exit(previous);
            if (state != null) {
                if (ok) {
                    synchronized (idle) {
                        idle[idleCount++] = state;
                    }
                } else {
                    discard(state);
                }
            }
        }
    }

    /** Closes a run state a failed or stopped run leaves, waiting first for what its backends still have queued. */
    private static void discard(RunState state) {
        for (Workspace ws : state.workspaces) {
            try {
                ws.finish();
            } catch (RuntimeException e) {
                // the run already failed; closing is what matters now
            }
        }
        state.close();
    }

    private void runWith(RunState state, Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunProfile profile,
                         RunControl control) {
        try {
            List<String> graphOutputs = graph.outputs();
            for (int o = 0; o < graphOutputs.size(); o++) {
                String name = graphOutputs.get(o);
                Tensor source = inputs.containsKey(name) ? inputs.get(name) : graph.initializers().get(name);
                if (source != null) {
                    outputs.get(name).copyFrom(source); // an output that is an input or a constant is passed through
                }
            }
            for (int p = 0; p < partitions.size(); p++) {
                if (control != null) {
                    control.check();
                }
                Partition part = partitions.get(p);
                Workspace ws = state.workspaces.get(p);
                long started = profile == null ? 0 : System.nanoTime();
                for (int i = 0; i < part.inputs().size(); i++) {
                    int r = crossings.residentIn[p][i];
                    if (r >= 0 && state.resident[r] != null && ws.importResident(i, state.resident[r])) {
                        state.residentHandovers++;
                        continue;
                    }
                    ws.upload(i, r >= 0 ? hostCopy(r, state)
                            : value(part.inputs().get(i), inputs, outputs, state));
                    state.count(crossings.countedIn[p][i]);
                }
                long executed = 0;
                boolean nodesTimed = false;
                if (profile == null) {
                    ws.execute();
                } else {
                    executed = System.nanoTime();
                    if (!part.inputs().isEmpty()) {
                        profile.record("upload to partition " + p, RunProfile.Kind.TRANSFER, "", backendOf(p), "",
                                executed - started);
                    }
                    nodesTimed = ws.executeTimed((node, nanos) -> recordNode(profile, part, node, nanos));
                }
                long downloading = profile == null ? 0 : System.nanoTime();
                for (int i = 0; i < part.outputs().size(); i++) {
                    if (crossings.residentOut[p][i] < 0) {
                        ws.download(i, value(part.outputs().get(i), inputs, outputs, state));
                        state.count(crossings.countedOut[p][i]);
                    }
                }
                ws.finish();
                for (int i = 0; i < part.outputs().size(); i++) {
                    int r = crossings.residentOut[p][i];
                    if (r >= 0) {
                        state.resident[r] = ws.exportResident(i);
                    }
                }
                if (profile != null) {
                    long done = System.nanoTime();
                    if (nodesTimed) {
                        profile.record("download from partition " + p, RunProfile.Kind.TRANSFER, "", backendOf(p), "",
                                done - downloading);
                    } else {
                        // An asynchronous backend may still be computing while it downloads: one entry for both.
                        profile.record("partition " + p + " (" + backendOf(p) + ", " + part.nodes().size() + " nodes)",
                                RunProfile.Kind.PARTITION, "", backendOf(p), "", done - executed);
                    }
                }
            }
        } finally {
            state.endRun();
        }
    }

    private void recordNode(RunProfile profile, Partition part, int node, long nanos) {
        Node n = part.nodes().get(node).node();
        NodePlacement placed = placementOf.get(n.name());
        profile.record(n.name(), RunProfile.Kind.NODE, n.op().type(), placed.backend(), placed.algorithm(), nanos);
    }

    /**
     * A resident value in a host tensor, for a reader that refused it or a producer that did not
     * export it: downloaded once per run from the producer's workspace, which by the export
     * contract still holds it.
     */
    private Tensor hostCopy(int r, RunState state) {
        String name = partitions.get(crossings.producer[r]).outputs().get(crossings.producerOutput[r]);
        Tensor host = state.boundary.computeIfAbsent(name, k -> Tensor.allocate(shapes.get(k)));
        if (!state.residentOnHost[r]) {
            state.workspaces.get(crossings.producer[r]).download(crossings.producerOutput[r], host);
            state.count(crossings.countedOut[crossings.producer[r]][crossings.producerOutput[r]]);
            state.residentOnHost[r] = true;
        }
        return host;
    }

    private Tensor value(String name, Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunState state) {
        Tensor t = outputs.get(name);
        if (t == null) {
            t = inputs.get(name);
        }
        if (t == null) {
            t = state.boundary.get(name);
        }
        if (t == null) {
            t = graph.initializers().get(name);
        }
        if (t == null) {
            throw new IllegalStateException("no host tensor for boundary value '" + name + "'");
        }
        return t;
    }

    /**
     * Host tensors for values that cross partitions through the host, a workspace per partition,
     * and the resident values handed over in this run, for one run at a time.
     */
    private final class RunState implements AutoCloseable {
        final Map<String, Tensor> boundary = new HashMap<>();
        final List<Workspace> workspaces = new ArrayList<>();
        final Object[] resident = new Object[crossings.residentCount()];
        final boolean[] residentOnHost = new boolean[crossings.residentCount()];
        long hostTransfers;
        long hostBytes;
        long residentHandovers;

        RunState() {
            Set<String> external = new HashSet<>(graph.outputs());
            graph.inputs().forEach(v -> external.add(v.name()));
            boundaries.stream().filter(BoundaryValue::resident).forEach(b -> external.add(b.name()));
            for (Partition p : partitions) {
                for (String v : p.outputs()) {
                    if (!external.contains(v)) {
                        boundary.computeIfAbsent(v, k -> Tensor.allocate(shapes.get(k)));
                    }
                }
            }
            try {
                for (CompiledPartition c : compiled) {
                    workspaces.add(c.newWorkspace());
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        void count(long bytes) {
            if (bytes > 0) {
                hostTransfers++;
                hostBytes += bytes;
            }
        }

        /** Drops this run's resident values (they belong to the workspaces) and adds up its traffic. */
        void endRun() {
            Arrays.fill(resident, null);
            Arrays.fill(residentOnHost, false);
            runs.increment();
            ExecutionPlan.this.hostTransfers.add(hostTransfers);
            ExecutionPlan.this.hostBytes.add(hostBytes);
            ExecutionPlan.this.residentHandovers.add(residentHandovers);
            hostTransfers = 0;
            hostBytes = 0;
            residentHandovers = 0;
        }

        @Override
        public void close() {
            workspaces.forEach(Workspace::close);
            boundary.values().forEach(Tensor::close);
        }
    }

    private void acquire() {
        synchronized (lifecycle) {
            if (closing) {
                throw new Retired();
            }
            inFlight++;
        }
    }

    private void release() {
        boolean freeNow;
        synchronized (lifecycle) {
            inFlight--;
            freeNow = closing && inFlight == 0 && !freed;
            freed |= freeNow;
            lifecycle.notifyAll();
        }
        if (freeNow) {
            free();
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
        synchronized (lifecycle) {
            return inFlight;
        }
    }

    /**
     * Refuses new runs and frees everything once the runs in flight have finished, without
     * waiting for them: for a plan dropped from a model's cache while another thread runs it.
     */
    public void retire() {
        boolean freeNow;
        synchronized (lifecycle) {
            closing = true;
            freeNow = inFlight == 0 && !freed;
            freed |= freeNow;
        }
        if (freeNow) {
            free();
        }
    }

    /**
     * Refuses new runs, waits for the runs in flight to finish, then frees every workspace and
     * then the compiled partitions that made them; returns once they are freed, also when the
     * last run of a retired plan frees them on its own thread. Must not be called from inside a
     * run.
     */
    @Override
    public void close() {
        boolean freeNow;
        boolean interrupted = false;
        synchronized (lifecycle) {
            closing = true;
            while (inFlight > 0) {
                try {
                    lifecycle.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            freeNow = !freed;
            freed = true;
        }
        if (freeNow) {
            free();
        } else {
            synchronized (lifecycle) {
                while (!released) {
                    try {
                        lifecycle.wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the plan is freed (only once no run is in flight). */
    public boolean isFreed() {
        synchronized (lifecycle) {
            return freed;
        }
    }

    private void free() {
        try {
            synchronized (idle) {
                while (idleCount > 0) {
                    idle[--idleCount].close();
                    idle[idleCount] = null;
                }
            }
            compiled.forEach(CompiledPartition::close);
        } finally {
            synchronized (lifecycle) {
                released = true;
                lifecycle.notifyAll();
            }
        }
    }
}
