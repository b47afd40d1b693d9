package dev.kiln.runtime;

import dev.kiln.EngineOptions;
import dev.kiln.RunProfile;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.selection.Candidate;
import dev.kiln.selection.MixedPlan;
import dev.kiln.spi.Backend;
import dev.kiln.spi.CompileContext;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * One candidate being measured: its plan, its seeded inputs and its times, or why it was
 * dropped. A first run that starts within the budget and ends past it abandons the candidate
 * (a later one only ends its measuring, since it has times already). A
 * candidate that is compiled after the budget is spent gets one run only while no other has a
 * time (one at least must have one for the choice to be measured at all), else none.
 */
final class Trial implements AutoCloseable {
    /** The candidate's id: its backend's, or {@link MixedPlan#ID}. */
    private final String id;
    private final int rank;
    /** The backend of every node not pinned elsewhere. */
    private final Backend backend;
    /** Backend id by node name: the caller's pins, or the mixed plan's. */
    private final Map<String, String> pins;
    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final List<BackendRegistry.Entry> order;
    private final Function<Backend, CompileContext> contexts;
    private final EngineOptions options;
    private final HostThreadPool threads;
    private final Timing timing = new Timing(1);
    /** Runs shorter than this get an untimed lead-in run before each timed one in turn. */
    private static final double LEAD_IN_BELOW_MS = 100;

    /** Runs taken in turn with the other candidates, after its own warm-up. */
    private final Timing alternated = new Timing(0);
    private final Map<String, Tensor> inputs = new HashMap<>();
    private ExecutionPlan plan;
    private String dropped;
    /** Node-by-node times from runs taken for the mixed plan; null until {@link #profile} ran. */
    private RunProfile profile;

    /** @param order the fallback order with {@code backend} first: the plan it compiles is that order's */
    Trial(Backend backend, Graph graph, Map<String, Shape> shapes, List<BackendRegistry.Entry> order,
          Function<Backend, CompileContext> contexts, EngineOptions options, HostThreadPool threads) {
        this(backend.id(), backend.rank(), backend, Map.of(), graph, shapes, order, contexts, options, threads);
    }

    /**
     * A candidate with pinned nodes: the mixed plan (id {@link MixedPlan#ID}), or a backend under
     * the caller's pins. Its plan may put only pinned nodes on other backends.
     */
    Trial(String id, int rank, Backend backend, Map<String, String> pins, Graph graph, Map<String, Shape> shapes,
          List<BackendRegistry.Entry> order, Function<Backend, CompileContext> contexts, EngineOptions options,
          HostThreadPool threads) {
        this.id = id;
        this.rank = rank;
        this.pins = pins;
        this.backend = backend;
        this.graph = graph;
        this.shapes = shapes;
        this.order = order;
        this.contexts = contexts;
        this.options = options;
        this.threads = threads;
    }

    boolean timed() {
        return dropped == null && timing.runs() > 0;
    }

    void drop(String why) {
        dropped = why;
        close(); // a dropped candidate's memory goes now, not when the others are done
    }

    void compile(long deadline, boolean othersTimed) {
        long before = System.nanoTime();
        try {
            plan = threads.call(() -> ExecutionPlan.compile(graph, shapes, order, pins, contexts, options));
        } catch (RuntimeException | LinkageError e) {
            drop("failed to compile: " + e.getMessage());
            return;
        }
        long after = System.nanoTime();
        List<String> elsewhere = plan.placements().stream().filter(p -> !pins.containsKey(p.node()))
                .map(NodePlacement::backend).filter(b -> !b.equals(backend.id())).distinct().toList();
        if (!elsewhere.isEmpty()) {
            drop("compiled with nodes on " + elsewhere + " (" + String.join("; ", plan.skippedBackends()) + ")");
        } else if (after >= deadline && othersTimed) {
            drop(String.format(Locale.ROOT, "not run: the budget was spent while it compiled (%.0f ms)",
                    (after - before) / 1e6));
        }
    }

    boolean alternatedEnough() {
        return alternated.runs() >= Timing.WINDOW;
    }

    /**
     * One run in turn with the others (an unsettled candidate's counts as its warm-up). The
     * candidate before leaves its threads spinning for a while (OpenMP's, the host pool's, an
     * OpenCL runtime's), and on a short run they take a core from this one: measured so, oneDNN's
     * MobileNet v2 came out at 7.6 ms in one process and 4.7 in the next, and auto picked the
     * slower backend. So a short run gets an untimed run first, which lets them park and wakes this
     * candidate's own threads, as a run that follows another of the same model finds them.
     */
    void alternate(long deadline) {
        if (dropped == null && plan != null) {
            if (timing.settled() && timing.median() < LEAD_IN_BELOW_MS && runOnce(deadline) == null) {
                return;
            }
            Double ms = runOnce(deadline);
            if (ms != null) {
                (timing.settled() ? alternated : timing).add(ms);
            }
        }
    }

    /**
     * One run, its time; null when it failed (the trial is then dropped) or ended past the
     * budget (the trial is dropped only if that was its first run: it has no time to show).
     */
    private Double runOnce(long deadline) {
        return runOnce(deadline, null);
    }

    private Double runOnce(long deadline, RunProfile into) {
        try {
            long before = System.nanoTime();
            Map<String, Tensor> out = plan.computesOnHostThreads()
                    ? threads.call(() -> plan.run(inputs, into)) : plan.run(inputs, into);
            long after = System.nanoTime();
            out.values().forEach(Tensor::close);
            if (after > deadline && before < deadline) {
                if (timing.runs() == 0) {
                    timing.add((after - before) / 1e6);
                    drop(String.format(Locale.ROOT, "abandoned: its first run took %.1f ms, more than the %.1f"
                            + " ms left of the budget", (after - before) / 1e6, (deadline - before) / 1e6));
                }
                return null; // a warm candidate keeps the times it has: the budget, not it, ran out
            }
            return (after - before) / 1e6;
        } catch (RuntimeException | LinkageError e) {
            drop("failed to run: " + e.getMessage());
            return null;
        }
    }

    /**
     * Runs until the times settle or this trial's share ends: what is left until
     * {@code passEnd}, over {@code sharing} trials, but at least one run.
     */
    void runFor(long passEnd, long deadline, int sharing) {
        if (dropped != null || plan == null) {
            return;
        }
        long now = System.nanoTime();
        long shareEnd = now + Math.max(0, passEnd - now) / sharing;
        try {
            if (inputs.isEmpty()) {
                Random random = new Random(42);
                for (var e : shapes.entrySet()) {
                    Tensor t = Tensor.allocate(e.getValue());
                    inputs.put(e.getKey(), t);
                    for (long i = 0; i < t.elementCount(); i++) {
                        t.set(i, random.nextFloat() * 2 - 1);
                    }
                }
            }
            while (!timing.settled()) {
                Double ms = runOnce(deadline);
                if (ms == null) {
                    return;
                }
                timing.add(ms);
                if (System.nanoTime() >= shareEnd) {
                    return;
                }
            }
        } catch (RuntimeException e) {
            drop("failed to make its inputs: " + e.getMessage());
        }
    }

    /**
     * Runs that time each node (and each transfer), for the mixed plan's prices; not counted in the
     * candidate's times, since timing nodes one by one may slow a backend (opencl waits for each).
     * The first starts only before the deadline, the others only before {@code passEnd} (a big
     * model's runs would otherwise eat the alternating rounds); a failed run drops the candidate as
     * any run would.
     */
    void profile(long passEnd, long deadline, int runs) {
        if (dropped != null || plan == null || inputs.isEmpty()) {
            return;
        }
        RunProfile p = new RunProfile();
        for (int i = 0; i < runs && System.nanoTime() < (i == 0 ? deadline : passEnd); i++) {
            if (runOnce(deadline, p) == null) {
                return;
            }
        }
        if (!p.entries().isEmpty()) {
            profile = p;
        }
    }

    /** The profiled runs' entries; null when none were taken. */
    RunProfile profiled() {
        return dropped == null ? profile : null;
    }

    /** The median of its times so far (NaN without any). */
    double median() {
        return result().medianMillis();
    }

    String id() {
        return id;
    }

    Backend backend() {
        return backend;
    }

    Candidate result() {
        if (dropped != null) {
            return new Candidate(id, rank, Candidate.Outcome.DROPPED, Double.NaN, timing.runs(), dropped);
        }
        if (alternated.runs() >= 3) {
            return new Candidate(id, rank, Candidate.Outcome.MEASURED, alternated.median(),
                    timing.runs() + alternated.runs(), "settled after " + timing.runs() + " runs; median of "
                    + alternated.runs() + " runs taken in turn with the other candidates");
        }
        return new Candidate(id, rank, Candidate.Outcome.MEASURED, timing.median(),
                timing.runs() + alternated.runs(), timing.settled() ? "settled after " + timing.runs() + " runs"
                : timing.runs() == 1 ? "one run only (budget), warm-up included" : "not settled within the budget");
    }

    /** The plan, now the caller's to keep: closing the trial leaves it open. */
    ExecutionPlan takePlan() {
        ExecutionPlan p = plan;
        plan = null;
        return p;
    }

    @Override
    public void close() {
        inputs.values().forEach(Tensor::close);
        inputs.clear();
        if (plan != null) {
            plan.close();
            plan = null;
        }
    }
}
