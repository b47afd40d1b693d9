package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.NodeTimes;
import dev.kiln.spi.Partition;
import dev.kiln.spi.RunCheckpoint;
import dev.kiln.spi.Workspace;
import dev.kiln.spi.memory.MemoryPlanner;
import dev.kiln.spi.memory.StepMemoryPlan;
import dev.kiln.spi.memory.StepValues;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A partition compiled to oneDNN primitives ({@link LoweringContext}, a kernel per node), created once and run
 * by any number of workspaces. Values that are not alive at the same time share storage; each
 * workspace owns its storage, its memory objects, its scratchpad and its stream, so workspaces
 * run concurrently. Host data crosses only at the edges: an input is read in place from the
 * caller's tensor (its first reader, often a reorder to the blocked layout, reads it there), and
 * an output is reordered straight into the caller's tensor.
 */
final class OneDnnPartition implements CompiledPartition {
    private final OneDnnRuntime runtime;
    private final Dnnl dnnl;
    private final NativeResources owned = new NativeResources();
    private final List<Program.Value> values;
    private final List<Program.Step> steps;
    private final List<NodeKernel> kernels;
    private final Shape[] inputShapes;
    private final Shape[] outputShapes;
    private final int[] inputs;
    private final int[] outputs;
    /** Per output: a reorder to plain layout, or NULL when the value is already plain. */
    private final MemorySegment[] downloads;
    private final MemorySegment[] plainOutputMds;
    private final int[] storageOf;
    /** Per input: read in place from the caller's tensor (no storage of its own), or copied in. */
    private final boolean[] readInPlace;
    private final long[] storageBytes;
    private final long scratchpadBytes;
    private final int threads;
    private final int nodeCount;
    /** Where every oneDNN call that may start a parallel region runs (see {@link OneDnnThread}). */
    private final OneDnnThread oneDnnThread;

    OneDnnPartition(OneDnnRuntime runtime, Partition partition, CompileContext context) {
        this.runtime = runtime;
        this.dnnl = runtime.dnnl;
        this.threads = context.threads().parallelism();
        this.nodeCount = partition.nodes().size();
        this.oneDnnThread = OneDnnThread.forCount(threads);
        // Runs on the oneDNN thread (OneDnnBackend.compile). oneDNN sizes a primitive's work split
        // by the thread count where the primitive is created, and runs it with that many threads
        // whatever the executing thread's setting: so the engine's count must be in force here too.
        dnnl.setThreads(threads);
        try {
            LoweringContext lowering = new LoweringContext(runtime, owned, partition, context);
            values = lowering.program.values;
            steps = lowering.program.steps;
            kernels = lowering.kernels;
            inputs = lowering.inputs;
            outputs = lowering.outputs;
            inputShapes = partition.inputs().stream().map(partition::shape).toArray(Shape[]::new);
            outputShapes = partition.outputs().stream().map(partition::shape).toArray(Shape[]::new);
            downloads = new MemorySegment[outputs.length];
            plainOutputMds = new MemorySegment[outputs.length];
            for (int i = 0; i < outputs.length; i++) {
                MemorySegment plain = dnnl.memoryDesc(ValueLayouts.dims(outputShapes[i]), false);
                plainOutputMds[i] = owned.own(plain, () -> dnnl.memoryDescDestroy(plain));
                MemorySegment md = values.get(outputs[i]).md();
                downloads[i] = dnnl.memoryDescEqual(md, plain) ? MemorySegment.NULL : downloadReorder(md, plain);
            }
            storageOf = new int[values.size()];
            readInPlace = new boolean[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                int input = inputs[i];
                // A view of the input would keep its own handle to the storage, and Kiln's kernels are
                // given the buffers, not oneDNN's memory objects: such inputs are copied.
                readInPlace[i] = values.stream().filter(v -> v.root() == input).count() == 1
                        && Arrays.stream(outputs).noneMatch(o -> o == input) && !isReadByKilnsKernel(input);
            }
            storageBytes = planStorage();
            scratchpadBytes = steps.stream().mapToLong(Program.Step::scratchpadBytes).max().orElse(0);
        } catch (RuntimeException | Error e) {
            owned.close();
            throw e;
        }
    }

    private boolean isReadByKilnsKernel(int value) {
        return steps.stream().anyMatch(s -> s.own() != null && Arrays.stream(s.argValues()).anyMatch(v -> v == value));
    }

    private MemorySegment downloadReorder(MemorySegment from, MemorySegment to) {
        MemorySegment attr = dnnl.attr(MemorySegment.NULL);
        try {
            MemorySegment pd = dnnl.reorder(runtime.engine, from, to, attr, "for an output to plain layout");
            try {
                // A reorder to a plain layout needs no scratchpad on the CPU; attr's user mode makes that checkable.
                MemorySegment primitive = dnnl.primitiveCreate(pd, "for an output reorder");
                return owned.own(primitive, () -> dnnl.primitiveDestroy(primitive));
            } finally {
                dnnl.primitiveDescDestroy(pd);
            }
        } finally {
            dnnl.attrDestroy(attr);
        }
    }

    /**
     * Gives every activation a storage slot through the shared planner: views (reshapes, sums in
     * place) have their root's storage, constants and inputs read in place none, inputs copied in
     * live from the start and outputs to the end.
     */
    private long[] planStorage() {
        StepValues program = new StepValues();
        for (Program.Value value : values) {
            int v = value.root() == program.size() ? program.add(value.bytes()) : program.viewOf(value.root());
            if (value.isConstant() && value.root() == v) {
                program.external(v);
            }
        }
        for (int i = 0; i < inputs.length; i++) {
            if (readInPlace[i]) {
                program.external(inputs[i]);
            } else {
                program.liveIn(inputs[i]);
            }
        }
        for (int v : outputs) {
            program.liveOut(v);
        }
        for (Program.Step step : steps) {
            program.step(step.argValues());
        }
        StepMemoryPlan plan = MemoryPlanner.plan(program);
        for (int v = 0; v < values.size(); v++) {
            storageOf[v] = plan.bufferOf(v);
        }
        return plan.bufferBytes().stream().mapToLong(Long::longValue).toArray();
    }

    @Override
    public Workspace newWorkspace() {
        if (owned.isClosed()) {
            throw new IllegalStateException("onednn partition is closed");
        }
        return new OneDnnWorkspace();
    }

    /** oneDNN computes on its OpenMP team, started from the oneDNN thread. */
    @Override
    public boolean computesOnHostThreads() {
        return false;
    }

    @Override
    public String describe() {
        long bytes = Arrays.stream(storageBytes).sum();
        long ownKernels = steps.stream().filter(s -> s.own() != null).count();
        return "oneDNN " + runtime.dnnl.version() + " primitives: " + (steps.size() - ownKernels) + " executions ("
                + steps.stream().filter(s -> s.node().equals("reorder")).count() + " reorders), "
                + (ownKernels > 0 ? ownKernels + " passes of Kiln's kernels, " : "")
                + storageBytes.length + " activation buffers of " + bytes + " bytes, scratchpad " + scratchpadBytes
                + " bytes";
    }

    @Override
    public List<NodeKernel> kernels() {
        return kernels;
    }

    @Override
    public void close() {
        owned.close();
    }

    private final class OneDnnWorkspace implements Workspace {
        private final NativeResources resources = new NativeResources();
        private final MemorySegment stream;
        private final MemorySegment[] buffers = new MemorySegment[values.size()];
        private final MemorySegment[] args = new MemorySegment[steps.size()];
        private final MemorySegment[] downloadTargets = new MemorySegment[outputs.length];
        private final MemorySegment[] downloadArgs = new MemorySegment[outputs.length];
        private final MemorySegment[] memories = new MemorySegment[values.size()];

        OneDnnWorkspace() {
            try {
                MemorySegment[] storage = new MemorySegment[storageBytes.length];
                for (int i = 0; i < storage.length; i++) {
                    storage[i] = resources.allocate(storageBytes[i], 64);
                }
                for (int v = 0; v < values.size(); v++) {
                    Program.Value value = values.get(v);
                    buffers[v] = value.isConstant() ? value.constant()
                            : storageOf[v] < 0 ? MemorySegment.NULL : storage[storageOf[v]];
                    memories[v] = memory(value.md(), buffers[v]);
                }
                MemorySegment scratchpad = resources.allocate(scratchpadBytes, 64);
                for (int s = 0; s < steps.size(); s++) {
                    Program.Step step = steps.get(s);
                    if (step.own() != null) {
                        continue; // no primitive, no arguments: it is given the buffers
                    }
                    boolean scratch = step.scratchpadBytes() > 0;
                    int count = step.argKinds().length + (scratch ? 1 : 0);
                    MemorySegment array = resources.allocate(Dnnl.EXEC_ARG_BYTES * count, 8);
                    for (int a = 0; a < step.argKinds().length; a++) {
                        array.set(JAVA_INT, a * Dnnl.EXEC_ARG_BYTES, step.argKinds()[a]);
                        array.set(ADDRESS, a * Dnnl.EXEC_ARG_BYTES + 8, memories[step.argValues()[a]]);
                    }
                    if (scratch) {
                        long at = (count - 1) * Dnnl.EXEC_ARG_BYTES;
                        array.set(JAVA_INT, at, Dnnl.ARG_SCRATCHPAD);
                        array.set(ADDRESS, at + 8, memory(step.scratchpad(), scratchpad));
                    }
                    args[s] = array;
                }
                for (int i = 0; i < outputs.length; i++) {
                    if (!downloads[i].equals(MemorySegment.NULL)) {
                        MemorySegment target = memory(plainOutputMds[i], MemorySegment.NULL);
                        MemorySegment array = resources.allocate(Dnnl.EXEC_ARG_BYTES * 2, 8);
                        array.set(JAVA_INT, 0, Dnnl.ARG_FROM);
                        array.set(ADDRESS, 8, memories[outputs[i]]);
                        array.set(JAVA_INT, Dnnl.EXEC_ARG_BYTES, Dnnl.ARG_TO);
                        array.set(ADDRESS, Dnnl.EXEC_ARG_BYTES + 8, target);
                        downloadTargets[i] = target;
                        downloadArgs[i] = array;
                    }
                }
                MemorySegment created = dnnl.streamCreate(runtime.engine);
                stream = resources.own(created, () -> dnnl.streamDestroy(created));
            } catch (RuntimeException | Error e) {
                resources.close();
                throw e;
            }
        }

        private MemorySegment memory(MemorySegment md, MemorySegment buffer) {
            MemorySegment memory = dnnl.memoryCreate(md, runtime.engine, buffer);
            return resources.own(memory, () -> dnnl.memoryDestroy(memory));
        }

        @Override
        public void upload(int index, Tensor host) {
            requireOpen();
            Shape expected = inputShapes[index];
            if (!host.shape().equals(expected)) {
                throw new IllegalArgumentException("input " + index + " must have shape " + expected + ", got "
                        + host.shape());
            }
            if (readInPlace[index]) {
                dnnl.memorySetDataHandle(memories[inputs[index]], host.segment());
            } else {
                MemorySegment.copy(host.segment(), 0, buffers[inputs[index]], 0, expected.elementCount() * Float.BYTES);
            }
        }

        @Override
        public void execute() {
            requireOpen();
            try {
                RunCheckpoint checkpoint = RunCheckpoint.capture(); // this run's, for the oneDNN thread
                oneDnnThread.run(() -> executeSteps(null, checkpoint));
            } finally {
                releaseInputs();
            }
        }

        /** The caller's tensors are lent for this run only: no handle to them outlives it. */
        private void releaseInputs() {
            for (int i = 0; i < inputs.length; i++) {
                if (readInPlace[i]) {
                    dnnl.memorySetDataHandle(memories[inputs[i]], MemorySegment.NULL);
                }
            }
        }

        /** Each step between two clock readings: oneDNN's CPU primitives finish before execute returns. */
        @Override
        public boolean executeTimed(NodeTimes times) {
            requireOpen();
            long[] nanos = new long[nodeCount];
            try {
                RunCheckpoint checkpoint = RunCheckpoint.capture();
                oneDnnThread.run(() -> executeSteps(nanos, checkpoint));
            } finally {
                releaseInputs();
            }
            for (int node = 0; node < nodeCount; node++) {
                times.record(node, nanos[node]); // a view (reshape, flatten) has no step: 0
            }
            return true;
        }

        /**
         * Runs the steps in order, each with the thread count it was created for: a primitive
         * made for one thread still opens a parallel region when more are in force where it runs.
         * With {@code nanos}, adds each step's time to its node's.
         */
        private void executeSteps(long[] nanos, RunCheckpoint checkpoint) {
            int inForce = threads;
            dnnl.setThreads(inForce);
            for (int s = 0; s < steps.size(); s++) {
                checkpoint.reached(); // a run may stop between two primitives, not inside one
                Program.Step step = steps.get(s);
                if (step.threads() != inForce) {
                    inForce = step.threads();
                    dnnl.setThreads(inForce);
                }
                long started = nanos == null ? 0 : System.nanoTime();
                if (step.own() != null) {
                    step.own().run(buffers);
                } else {
                    dnnl.execute(step.primitive(), stream,
                            step.argKinds().length + (step.scratchpadBytes() > 0 ? 1 : 0), args[s], step.node());
                }
                if (nanos != null) {
                    nanos[step.nodeIndex()] += System.nanoTime() - started;
                }
            }
        }

        @Override
        public void download(int index, Tensor host) {
            requireOpen();
            Shape expected = outputShapes[index];
            if (!host.shape().equals(expected)) {
                throw new IllegalArgumentException("output " + index + " must have shape " + expected + ", got "
                        + host.shape());
            }
            if (downloads[index].equals(MemorySegment.NULL)) {
                MemorySegment.copy(buffers[outputs[index]], 0, host.segment(), 0,
                        expected.elementCount() * Float.BYTES);
                return;
            }
            dnnl.memorySetDataHandle(downloadTargets[index], host.segment());
            try {
                oneDnnThread.run(() -> {
                    dnnl.setThreads(threads);
                    dnnl.execute(downloads[index], stream, 2, downloadArgs[index], "the reorder of an output");
                });
            } finally {
                dnnl.memorySetDataHandle(downloadTargets[index], MemorySegment.NULL);
            }
        }

        private void requireOpen() {
            if (resources.isClosed()) {
                throw new IllegalStateException("onednn workspace is closed");
            }
        }

        @Override
        public void close() {
            resources.close();
        }
    }
}
