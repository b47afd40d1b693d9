package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.runtime.BackendRegistry;
import dev.kiln.runtime.BackendSelection;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.HostThreadPool;
import dev.kiln.runtime.RunControl;
import dev.kiln.runtime.Selector;
import dev.kiln.runtime.WeightStore;
import dev.kiln.selection.Selection;
import dev.kiln.spi.Backend;
import dev.kiln.spi.CompileContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A graph compiled for a backend choice, ready to run from any number of threads at once.
 * One plan exists per distinct set of input shapes (batch sizes), compiled on first use
 * ({@link #planForBatch(int)} reports one); the one for the declared shapes at batch 1 is
 * compiled eagerly so that errors surface at compile time. Weights are prepared once for all
 * plans; at most {@link EngineOptions#cachedPlans()} plans are kept, the least recently used
 * dropped first. A plan compiles without blocking runs of other shapes.
 *
 * <p>Under {@code auto}, each plan's backend is chosen when the plan is first compiled, by the
 * engine's {@link SelectionPolicy}: batch 1 and batch 32 may choose differently.
 */
public final class CompiledModel implements AutoCloseable {
    private final Graph graph;
    private final String requested;
    /** The caller's placement pins: backend id by node name. */
    private final Map<String, String> pins;
    /** auto's rank rule (or the explicit backend), worked out when first needed: it probes every backend. */
    private final Supplier<BackendSelection> rankSelection;
    private final List<BackendRegistry.Entry> backends;
    /** How each cached plan's backend was chosen, by its input shapes; batch 1's is kept even after its plan is dropped. */
    private final Map<List<Shape>, Selector.Choice> choices = new ConcurrentHashMap<>();
    private final OptimizationReport optimization; // null when compiled without the optimizer
    private final Function<Backend, CompileContext> contexts;
    private final HostThreadPool threads;
    private final WeightStore weights;
    private final EngineOptions options;
    private final LinkedHashMap<List<Shape>, CompletableFuture<ExecutionPlan>> plans =
            new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Plans dropped from the cache with runs perhaps still in flight on them (guarded by
     * {@code plans}): those runs use the prepared weights, so the model's close waits for them
     * before it frees the weights. Freed plans leave the list at the next drop.
     */
    private final List<ExecutionPlan> dropped = new ArrayList<>();
    /** What the model holds for its caller and frees last, newest first: the source graph, a pool lease, an engine. */
    private final List<AutoCloseable> owned = new ArrayList<>();
    private volatile List<ValueInfo> outputInfos;
    private volatile boolean closed;
    /** The plan of the latest run: a run with the same input shapes skips the lookup by shapes and its allocations. */
    private volatile ExecutionPlan lastPlan;
    /** Whether a node off the plan's backend, or a dropped backend, is an error ({@link CompileOptions#strict()}). */
    private final boolean strict;
    private final int distinctOutputs;
    /** Why the optimizer, or some of its passes, did not run though asked for (input sizes open beyond the batch); else null. */
    private final String optimizerSkipped;

    CompiledModel(Graph graph, String requested, Supplier<BackendSelection> rankSelection,
                  List<BackendRegistry.Entry> backends, OptimizationReport optimization,
                  Function<Backend, CompileContext> contexts, HostThreadPool threads, WeightStore weights,
                  EngineOptions options, CompileOptions compileOptions, String optimizerSkipped) {
        this.graph = graph;
        this.strict = compileOptions.strict();
        this.optimizerSkipped = optimizerSkipped;
        this.distinctOutputs = new HashSet<>(graph.outputs()).size();
        this.requested = requested;
        this.pins = compileOptions.pins();
        this.rankSelection = rankSelection;
        this.backends = backends;
        this.optimization = optimization;
        this.contexts = contexts;
        this.threads = threads;
        this.weights = weights;
        this.options = options;
        if (graph.hasFixedShapesBesidesBatch()) {
            plan(graph.inputShapesForBatch(1)); // compile errors surface now, not at the first run
        }
    }

    /** The graph that runs: the optimized one, unless the optimizer was off. */
    public Graph graph() {
        return graph;
    }

    /**
     * What the optimizer did; empty when it was off, or when it was skipped
     * ({@link #optimizerSkipped()}).
     */
    public Optional<OptimizationReport> optimization() {
        return Optional.ofNullable(optimization);
    }

    /**
     * Why the optimizer, or some of its passes, did not run though asked for; empty when every
     * pass ran or the optimizer was turned off. Only a graph whose image size is open (only the
     * batch may be, for every pass) gets one: it is optimized for its fixed axes without the
     * passes that need a concrete size ({@link OptimizationReport#skippedPasses()}), or runs as
     * written when its shapes do not infer at the sizes the optimizer probes.
     */
    public Optional<String> optimizerSkipped() {
        return Optional.ofNullable(optimizerSkipped);
    }

    /**
     * The backend the model runs on at batch 1, except for nodes that fell back to another: the
     * chosen one, or, when it failed to compile the model and was dropped
     * ({@link #skippedBackends()}), the one that took its place.
     */
    public String backend() {
        return runningBackend().backend().id();
    }

    /** The device of the backend it runs on. */
    public String device() {
        return contexts.apply(runningBackend().backend()).device().name();
    }

    /** Backends dropped while compiling the plan at batch 1 (each failed to compile part of it), with the reason. */
    public List<String> skippedBackends() {
        if (!graph.hasFixedShapesBesidesBatch()) {
            return List.of();
        }
        return plan(graph.inputShapesForBatch(1)).skippedBackends();
    }

    private BackendRegistry.Entry runningBackend() {
        List<BackendRegistry.Entry> order = chosenAtBatchOne();
        if (!graph.hasFixedShapesBesidesBatch()) {
            return order.getFirst();
        }
        String primary = plan(graph.inputShapesForBatch(1)).primaryBackend();
        return order.stream().filter(e -> e.id().equals(primary)).findFirst().orElse(order.getFirst());
    }

    /**
     * How the backend was chosen at batch 1 (the declared shapes): the policy, every candidate with
     * its time or why it was not one, the tuning cache's part, the winner.
     */
    public Selection selection() {
        if (!graph.hasFixedShapesBesidesBatch()) {
            return Selector.choose(graph, Map.of(), requested, pins, rankSelection, backends, contexts, options,
                    threads)
                    .selection();
        }
        return selectionForBatch(1);
    }

    /** How the backend of the plan for this batch size was chosen (the plan is compiled if it was not yet). */
    public Selection selectionForBatch(int batch) {
        return choiceFor(graph.inputShapesForBatch(batch)).selection();
    }

    /** How the plan for these input shapes chose its backend, compiling that plan if it was not yet. */
    private Selector.Choice choiceFor(Map<String, Shape> shapes) {
        Selector.Choice c = choices.get(key(shapes));
        if (c == null) {
            plan(shapes);
            c = choices.get(key(shapes));
        }
        return c;
    }

    /**
     * Why this backend was chosen.
     *
     * @deprecated {@link #selection()} says it with the candidates' times; this is its explanation
     */
    @Deprecated
    public String selectionExplanation() {
        return selection().explanation();
    }

    private List<BackendRegistry.Entry> chosenAtBatchOne() {
        if (!graph.hasFixedShapesBesidesBatch()) {
            return rankSelection.get().order();
        }
        return choiceFor(graph.inputShapesForBatch(1)).order();
    }

    /** Which node runs where and why, at batch 1: {@link #planForBatch(int) planForBatch(1)}'s placements. */
    public List<PlanReport.Placement> placements() {
        return planForBatch(1).placements();
    }

    /**
     * How the model runs at one batch size, compiling that plan if it was not yet: its partitions
     * with their nodes, the values crossing between them with their bytes, where each node runs.
     */
    public PlanReport planForBatch(int batch) {
        return PlanReport.of(executionPlan(batch));
    }

    /** The runtime's plan for one batch size, for Kiln's own tools ({@link dev.kiln.runtime.InternalAccess}). */
    ExecutionPlan executionPlan(int batch) {
        return plan(graph.inputShapesForBatch(batch));
    }

    /** Bytes of weights the backends prepared (packed, reordered, uploaded) for this model, all plans together. */
    public long preparedWeightBytes() {
        return weights.bytes();
    }

    /** How many input-shape plans are cached now. */
    public int cachedPlanCount() {
        synchronized (plans) {
            return plans.size();
        }
    }

    public List<ValueInfo> inputs() {
        return graph.inputs();
    }

    /**
     * The graph outputs in order, as {@link #inputs()} gives the inputs: names, shapes whose batch
     * axis is {@link Shape#DYNAMIC} where it follows the inputs' batch, element type (always
     * {@link ElementType#FLOAT32}). See {@link Graph#outputInfos()}.
     */
    public List<ValueInfo> outputs() {
        List<ValueInfo> o = outputInfos;
        if (o == null) {
            o = graph.outputInfos();
            outputInfos = o;
        }
        return o;
    }

    /** The output names in order: the keys of {@link #run(Map)}'s result. */
    public List<String> outputNames() {
        return graph.outputs();
    }

    /**
     * Hands {@code resource} to the model, which closes it after everything else when it is
     * closed (resources handed later are closed first). For what only the model uses: the graph
     * it was compiled from, a lease on the engine's threads, an engine made for it alone.
     */
    void own(AutoCloseable resource) {
        synchronized (plans) {
            if (closed) {
                throw new IllegalStateException("the compiled model is closed");
            }
            owned.add(resource);
        }
    }

    /**
     * Runs the model on the engine's host threads (or, when every partition computes on threads
     * of its own backend, on the caller's thread, which then waits for them). Inputs by graph
     * input name; the caller keeps ownership of them, and they must stay unchanged until the call
     * returns. Returns new tensors, one per graph output in graph order, which the caller must
     * close. Float32 only, as every tensor of Kiln.
     *
     * <p>At most {@link EngineOptions#concurrentRuns()} runs of one input shape are in flight at
     * once (fewer when that many would not fit the memory limit: {@link #concurrentRuns()}); a run
     * beyond them waits.
     *
     * @throws InvalidInputException for a missing or extra input, a closed tensor, or a shape
     *                               that does not match the declaration; the model stays usable
     * @throws IllegalStateException when the model is closed
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        return runAllocating(inputs, null, null);
    }

    /**
     * As {@link #run(Map)}, adding where the run's time went to {@code profile} (ignored when
     * null): per node, or per partition on a backend that does not time nodes one by one.
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, RunProfile profile) {
        return runAllocating(inputs, profile, null);
    }

    /**
     * As {@link #run(Map)}, stopped early by the options' timeout or cancel handle.
     *
     * @throws RunCancelledException when it was stopped; the model stays usable
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, RunOptions options) {
        return runAllocating(inputs, null, control(options, null));
    }

    /**
     * Runs the model into the caller's tensors ("bound outputs"): one per graph output, by name,
     * each of exactly the output's shape at these inputs ({@link #outputShapes(Map)}), none of
     * them an input or another output. Once the model has run at these input shapes, a run
     * allocates no tensors and, on the host backends, next to nothing on the heap.
     *
     * @throws InvalidInputException for a missing, extra, closed, shared or wrongly shaped input
     *                               or output, naming it and the shape expected; nothing is written
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        runInto(inputs, outputs, null, null);
    }

    /**
     * As {@link #run(Map, Map)}, stopped early by the options' timeout or cancel handle (the
     * outputs may then hold part of a result).
     *
     * @throws RunCancelledException when it was stopped; the model stays usable
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunOptions options) {
        runInto(inputs, outputs, null, control(options, null));
    }

    /** Runs a model with one input and one output. */
    public Tensor run(Tensor input) {
        requireOneInOne("run(Tensor)");
        return run(Map.of(graph.inputs().getFirst().name(), input)).values().iterator().next();
    }

    /** Runs a model with one input and one output into {@code output} (see {@link #run(Map, Map)}). */
    public void run(Tensor input, Tensor output) {
        requireOneInOne("run(Tensor, Tensor)");
        run(Map.of(graph.inputs().getFirst().name(), input), Map.of(graph.outputs().getFirst(), output));
    }

    /**
     * Runs on another thread and returns at once. The inputs must stay open and unchanged until
     * the future completes. Cancelling the future stops the run at its next check, as a cancel
     * handle would; the outputs of a run that completes after all are closed.
     */
    public CompletableFuture<Map<String, Tensor>> runAsync(Map<String, Tensor> inputs) {
        return runAsync(inputs, RunOptions.NONE);
    }

    /** As {@link #runAsync(Map)}, stopped early by the options (the future then fails with a {@link RunCancelledException}). */
    public CompletableFuture<Map<String, Tensor>> runAsync(Map<String, Tensor> inputs, RunOptions options) {
        checkOpen();
        CompletableFuture<Map<String, Tensor>> future = new CompletableFuture<>();
        CancelHandle own = new CancelHandle();
        RunControl control = control(options, own);
        future.whenComplete((result, failure) -> {
            if (future.isCancelled()) {
                own.cancel();
            }
        });
        startAsync(future, () -> {
            Map<String, Tensor> outputs = runAllocating(inputs, null, control);
            if (!future.complete(outputs)) {
                outputs.values().forEach(Tensor::close); // cancelled meanwhile: nobody will read them
            }
        });
        return future;
    }

    /**
     * As {@link #run(Map, Map, RunOptions)}, on another thread. Inputs and outputs belong to the
     * run until the future completes; a future cancelled with {@code cancel} completes at once,
     * while the run may write the outputs for a few more milliseconds, so a caller that reuses
     * them at once should stop the run with a {@link CancelHandle} and wait for the future instead.
     */
    public CompletableFuture<Void> runAsync(Map<String, Tensor> inputs, Map<String, Tensor> outputs,
                                            RunOptions options) {
        checkOpen();
        CompletableFuture<Void> future = new CompletableFuture<>();
        CancelHandle own = new CancelHandle();
        RunControl control = control(options, own);
        future.whenComplete((result, failure) -> {
            if (future.isCancelled()) {
                own.cancel();
            }
        });
        startAsync(future, () -> {
            runInto(inputs, outputs, null, control);
            future.complete(null);
        });
        return future;
    }

    /**
     * Each output's shape for inputs of these shapes (by input name): what {@link #run(Map, Map)}
     * wants its output tensors to be. Compiles the plan for these shapes if it was not yet.
     */
    public Map<String, Shape> outputShapes(Map<String, Shape> inputShapes) {
        ExecutionPlan plan = plan(inputShapes);
        Map<String, Shape> out = new LinkedHashMap<>();
        for (String name : graph.outputs()) {
            out.put(name, plan.shapes().get(name));
        }
        return out;
    }

    /**
     * How many runs of the plan at batch 1 may be in flight at once: the engine's
     * {@link EngineOptions#concurrentRuns()}, or fewer where that many would not fit the memory limit.
     */
    public int concurrentRuns() {
        return plan(graph.inputShapesForBatch(1)).concurrentRuns();
    }

    /** A run started on a virtual thread: it may wait for a free run state, and a native backend computes on it. */
    private void startAsync(CompletableFuture<?> future, Runnable run) {
        Thread.ofVirtual().name("kiln-run-async").start(() -> {
            try {
                run.run();
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        });
    }

    private static RunControl control(RunOptions options, CancelHandle own) {
        return options == null ? RunControl.start(null, null, own)
                : RunControl.start(options.timeout(), options.cancellation(), own);
    }

    private void requireOneInOne(String method) {
        if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
            throw new InvalidInputException(method + " needs a model with one input and one output; this one has "
                    + graph.inputs().size() + " inputs " + names(graph.inputs()) + " and outputs " + graph.outputs());
        }
    }

    private Map<String, Tensor> runAllocating(Map<String, Tensor> inputs, RunProfile profile, RunControl control) {
        checkOpen();
        while (true) {
            ExecutionPlan plan = planFor(inputs);
            Map<String, Tensor> outputs = plan.allocateOutputs();
            boolean ok = false;
            try {
                plan.run(inputs, outputs, profile, control, threads);
                ok = true;
                return outputs;
            } catch (ExecutionPlan.Retired e) {
                lastPlan = null;
                checkOpen(); // else the plan left the cache between lookup and run: compile it again
            } finally {
                if (!ok) {
                    outputs.values().forEach(Tensor::close);
                }
            }
        }
    }

    private void runInto(Map<String, Tensor> inputs, Map<String, Tensor> outputs, RunProfile profile,
                         RunControl control) {
        checkOpen();
        while (true) {
            ExecutionPlan plan = planFor(inputs);
            checkOutputs(inputs, outputs, plan);
            try {
                plan.run(inputs, outputs, profile, control, threads);
                return;
            } catch (ExecutionPlan.Retired e) {
                lastPlan = null;
                checkOpen();
            }
        }
    }

    /** The plan for these inputs, checked against the declaration; allocates nothing when the last run had these shapes. */
    private ExecutionPlan planFor(Map<String, Tensor> inputs) {
        ExecutionPlan last = lastPlan;
        if (last != null && sameInputShapes(inputs, last)) {
            return last;
        }
        ExecutionPlan plan = plan(checkInputs(inputs));
        lastPlan = plan;
        return plan;
    }

    private boolean sameInputShapes(Map<String, Tensor> inputs, ExecutionPlan plan) {
        List<ValueInfo> declared = graph.inputs();
        if (inputs.size() != declared.size()) {
            return false;
        }
        for (int i = 0; i < declared.size(); i++) {
            String name = declared.get(i).name();
            Tensor t = inputs.get(name);
            if (t == null || t.isClosed() || !t.shape().equals(plan.shapes().get(name))) {
                return false;
            }
        }
        return true;
    }

    /** Every graph output bound to an open tensor of its shape, none an input or another output, and nothing else. */
    private void checkOutputs(Map<String, Tensor> inputs, Map<String, Tensor> outputs, ExecutionPlan plan) {
        List<String> names = graph.outputs();
        for (int o = 0; o < names.size(); o++) {
            String name = names.get(o);
            Shape expected = plan.shapes().get(name);
            Tensor t = outputs.get(name);
            if (t == null) {
                throw new InvalidInputException("missing output '" + name + "' " + expected + "; expected outputs "
                        + outputShapeList(plan) + ", got " + outputs.keySet());
            }
            if (t.isClosed()) {
                throw new InvalidInputException("output '" + name + "' is a closed tensor");
            }
            if (!t.shape().equals(expected)) {
                throw new InvalidInputException("output '" + name + "' must have shape " + expected
                        + " for these inputs, got " + t.shape());
            }
            List<ValueInfo> declared = graph.inputs();
            for (int i = 0; i < declared.size(); i++) {
                if (inputs.get(declared.get(i).name()) == t) {
                    throw new InvalidInputException("output '" + name + "' is the tensor given as input '"
                            + declared.get(i).name() + "'; an output needs a tensor of its own");
                }
            }
            for (int p = 0; p < o; p++) {
                if (!names.get(p).equals(name) && outputs.get(names.get(p)) == t) {
                    throw new InvalidInputException("outputs '" + names.get(p) + "' and '" + name
                            + "' are the same tensor; each output needs a tensor of its own");
                }
            }
        }
        if (outputs.size() != distinctOutputs) {
            for (String name : outputs.keySet()) {
                if (!names.contains(name)) {
                    throw new InvalidInputException("unexpected output '" + name + "'; expected outputs "
                            + outputShapeList(plan));
                }
            }
        }
    }

    private List<String> outputShapeList(ExecutionPlan plan) {
        return graph.outputs().stream().distinct().map(n -> n + " " + plan.shapes().get(n)).toList();
    }

    private List<Shape> key(Map<String, Shape> shapes) {
        List<Shape> key = new ArrayList<>();
        for (ValueInfo v : graph.inputs()) {
            key.add(shapes.get(v.name()));
        }
        return key;
    }

    private ExecutionPlan plan(Map<String, Shape> shapes) {
        List<Shape> key = key(shapes);
        CompletableFuture<ExecutionPlan> future;
        boolean mine = false;
        List<ExecutionPlan> evicted = new ArrayList<>();
        synchronized (plans) {
            checkOpen();
            future = plans.get(key);
            if (future == null) {
                future = new CompletableFuture<>();
                plans.put(key, future);
                mine = true;
                var it = plans.entrySet().iterator();
                while (plans.size() > options.cachedPlans() && it.hasNext()) {
                    var oldest = it.next();
                    if (oldest.getValue().isDone() && !oldest.getValue().isCompletedExceptionally()) {
                        evicted.add(oldest.getValue().join());
                        if (!(graph.hasFixedShapesBesidesBatch()
                                && oldest.getKey().equals(key(graph.inputShapesForBatch(1))))) {
                            choices.remove(oldest.getKey());
                        }
                        it.remove();
                    }
                }
                if (!evicted.isEmpty()) {
                    dropped.removeIf(ExecutionPlan::isFreed);
                    dropped.addAll(evicted);
                }
            }
        }
        evicted.forEach(ExecutionPlan::retire);
        if (mine) {
            // Compiled outside the lock: runs of other shapes go on meanwhile.
            try {
                // Chosen outside the lock too: measuring the candidates takes up to the selection budget.
                Selector.Choice choice = Selector.choose(graph, shapes, requested, pins, rankSelection, backends,
                        contexts, options, threads);
                choices.put(key, choice);
                ExecutionPlan compiled = choice.plan() != null ? choice.plan() : threads.call(
                        () -> ExecutionPlan.compile(graph, shapes, choice.order(), choice.pins(), contexts, options));
                if (strict) {
                    StrictPlacement.check(graph, shapes, compiled);
                }
                boolean keep;
                synchronized (plans) {
                    keep = !closed && plans.get(key) == future;
                }
                future.complete(compiled);
                if (!keep) {
                    compiled.retire();
                }
            } catch (RuntimeException | Error e) {
                synchronized (plans) {
                    plans.remove(key, future);
                }
                future.completeExceptionally(e);
                throw e;
            }
        }
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
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

    /**
     * Refuses new runs, waits for the runs in flight to finish (those on plans already dropped
     * from the cache too), then frees compiled kernels, buffers, prepared weights and the
     * optimized graph, then what it owns (the graph it loaded from a file, its lease on the
     * engine's threads); a graph the caller compiled stays open. Closing twice is harmless; closing from
     * inside a run of this model is not allowed.
     */
    @Override
    public void close() {
        List<CompletableFuture<ExecutionPlan>> all;
        List<ExecutionPlan> retired;
        synchronized (plans) {
            if (closed) {
                return;
            }
            closed = true;
            lastPlan = null;
            all = new ArrayList<>(plans.values());
            plans.clear();
            retired = new ArrayList<>(dropped);
            dropped.clear();
        }
        for (CompletableFuture<ExecutionPlan> f : all) {
            ExecutionPlan p;
            try {
                p = f.join();
            } catch (RuntimeException e) {
                continue; // a plan that failed to compile holds nothing
            }
            p.close();
        }
        retired.forEach(ExecutionPlan::close);
        weights.close();
        if (optimization != null) {
            optimization.graph().close();
        }
        List<AutoCloseable> mine;
        synchronized (plans) {
            mine = new ArrayList<>(owned.reversed());
            owned.clear();
        }
        RuntimeException failure = null;
        for (AutoCloseable c : mine) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing what the compiled model owned failed: " + e, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
