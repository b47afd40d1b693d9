package dev.kiln.runtime;

import dev.kiln.RunProfile;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Workspace;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs a plan's partitions in order: per partition, its inputs uploaded (or imported resident),
 * executed, its outputs downloaded (or exported resident), as the {@link BoundaryPlan} decided.
 * Each run borrows a {@link RunState} from a pool of at most {@code concurrentRuns}; a run beyond
 * them waits on the caller's thread. A run that fails or is stopped discards its run state (its
 * buffers may hold half a run), so the next run starts from fresh ones. Adds up the boundary
 * traffic of every run.
 */
final class PlanRunner {
    private final Partitioning parts;
    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final List<Partition> partitions;
    private final BoundaryPlan boundaries;
    private final Map<String, NodePlacement> placementOf = new HashMap<>();
    private final boolean computesOnHostThreads;
    /** Run states not in use (guarded by itself); at most {@link Partitioning#concurrentRuns()} exist at once. */
    private final RunState[] idle;
    private int idleCount;
    /** One permit per run state the plan may hold: a run beyond them waits for one. */
    private final Semaphore permits;
    private final LongAdder runs = new LongAdder();
    private final LongAdder hostTransfers = new LongAdder();
    private final LongAdder hostBytes = new LongAdder();
    private final LongAdder residentHandovers = new LongAdder();

    PlanRunner(Partitioning parts, BoundaryPlan boundaries) {
        this.parts = parts;
        this.graph = parts.graph();
        this.shapes = parts.shapes();
        this.partitions = parts.partitions();
        this.boundaries = boundaries;
        parts.placements().forEach(placed -> placementOf.put(placed.node(), placed));
        this.computesOnHostThreads = parts.compiled().stream().anyMatch(CompiledPartition::computesOnHostThreads);
        this.idle = new RunState[parts.concurrentRuns()];
        this.permits = new Semaphore(parts.concurrentRuns());
    }

    /** Whether any partition computes on the engine's host threads, so that a run belongs on one of them. */
    boolean computesOnHostThreads() {
        return computesOnHostThreads;
    }

    /** What the boundaries have cost the runs so far. */
    BoundaryTraffic traffic() {
        return new BoundaryTraffic(runs.sum(), hostTransfers.sum(), hostBytes.sum(), residentHandovers.sum());
    }

    /** See {@link ExecutionPlan#run(Map, Map, RunProfile, RunControl, HostThreadPool)}. */
    void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunProfile profile, RunControl control,
             HostThreadPool threads) {
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
    }

    /** Closes the idle run states: with no run in flight, that is all of them. */
    void closeIdleStates() {
        synchronized (idle) {
            while (idleCount > 0) {
                idle[--idleCount].close();
                idle[idleCount] = null;
            }
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
                state = new RunState(graph, shapes, partitions, parts.compiled(), boundaries);
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
                    state.discard();
                }
            }
        }
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
                    int r = boundaries.residentIn[p][i];
                    if (r >= 0 && state.resident[r] != null && ws.importResident(i, state.resident[r])) {
                        state.residentHandovers++;
                        continue;
                    }
                    ws.upload(i, r >= 0 ? hostCopy(r, state)
                            : value(part.inputs().get(i), inputs, outputs, state));
                    state.count(boundaries.countedIn[p][i]);
                }
                long executed = 0;
                boolean nodesTimed = false;
                if (profile == null) {
                    ws.execute();
                } else {
                    executed = System.nanoTime();
                    if (!part.inputs().isEmpty()) {
                        profile.record("upload to partition " + p, RunProfile.Kind.TRANSFER, "", backend(p), "",
                                executed - started);
                    }
                    nodesTimed = ws.executeTimed((node, nanos) -> recordNode(profile, part, node, nanos));
                }
                long downloading = profile == null ? 0 : System.nanoTime();
                for (int i = 0; i < part.outputs().size(); i++) {
                    if (boundaries.residentOut[p][i] < 0) {
                        ws.download(i, value(part.outputs().get(i), inputs, outputs, state));
                        state.count(boundaries.countedOut[p][i]);
                    }
                }
                ws.finish();
                for (int i = 0; i < part.outputs().size(); i++) {
                    int r = boundaries.residentOut[p][i];
                    if (r >= 0) {
                        state.resident[r] = ws.exportResident(i);
                    }
                }
                if (profile != null) {
                    long done = System.nanoTime();
                    if (nodesTimed) {
                        profile.record("download from partition " + p, RunProfile.Kind.TRANSFER, "", backend(p), "",
                                done - downloading);
                    } else {
                        // An asynchronous backend may still be computing while it downloads: one entry for both.
                        profile.record("partition " + p + " (" + backend(p) + ", " + part.nodes().size() + " nodes)",
                                RunProfile.Kind.PARTITION, "", backend(p), "", done - executed);
                    }
                }
            }
        } finally {
            runs.increment();
            hostTransfers.add(state.hostTransfers);
            hostBytes.add(state.hostBytes);
            residentHandovers.add(state.residentHandovers);
            state.endRun();
        }
    }

    private String backend(int partition) {
        return parts.backends().get(partition).id();
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
        String name = partitions.get(boundaries.producer[r]).outputs().get(boundaries.producerOutput[r]);
        Tensor host = state.boundary.computeIfAbsent(name, k -> Tensor.allocate(shapes.get(k)));
        if (!state.residentOnHost[r]) {
            state.workspaces.get(boundaries.producer[r]).download(boundaries.producerOutput[r], host);
            state.count(boundaries.countedOut[boundaries.producer[r]][boundaries.producerOutput[r]]);
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
}
