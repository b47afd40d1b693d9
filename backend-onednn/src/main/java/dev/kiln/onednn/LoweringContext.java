package dev.kiln.onednn;

import dev.kiln.graph.ops.PostOp;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.NodeKernel;
import dev.kiln.spi.Partition;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Turns a partition's nodes into a {@link Program}, oneDNN's way: per node the best
 * {@link OneDnnKernel} of any provider ({@link KernelRegistry#best}) lowers it, describing its
 * primitives with layouts left to them ({@code any}) where it matters, creating them once and
 * reading back the layouts they chose. It is the kernels' {@link OneDnnLowering}, and offers
 * Kiln's own kernels the rest: the values by name, the layouts and reorders ({@link ValueLayouts}),
 * step creation ({@link ProgramBuilder}) sized by {@link StepThreads}, post-ops, and what the
 * partition's other nodes do with a value.
 */
final class LoweringContext implements OneDnnLowering {
    /** What a kernel of Kiln's returns when its output is left to its reader (see {@link #defer}). */
    static final int DEFERRED = -1;
    private static final MemorySegment NULL = MemorySegment.NULL;

    final OneDnnRuntime runtime;
    final Dnnl dnnl;
    final MemorySegment engine;
    final NativeResources owned;
    private final Partition partition;
    final StepThreads stepThreads;
    final ProgramBuilder program;
    final ValueLayouts layouts;
    /** The engine's thread count, in force while primitives are created. */
    final int threads;

    final List<NodeKernel> kernels = new ArrayList<>();
    final int[] inputs;
    final int[] outputs;
    private final Map<String, Integer> current = new HashMap<>();
    /** The value Kiln's swish (a plain one, in place) output last, or -1. */
    int swished = -1;
    /** The index of the node being lowered, in the partition. */
    private int nodeIndex;
    private BoundNode node;
    /** How many times nodes of the partition read each value, and which values leave it. */
    private final Map<String, Integer> reads = new HashMap<>();
    final Set<String> partitionOutputs;
    /**
     * Squeeze-excitation outputs left unmultiplied for the one convolution that reads them, which
     * applies the gate itself (see {@link SqueezeExcitationKernel#gatedReader}): by value name, {input, gate}.
     */
    final Map<String, int[]> gated = new HashMap<>();

    LoweringContext(OneDnnRuntime runtime, NativeResources owned, Partition partition, CompileContext context) {
        this.runtime = runtime;
        this.dnnl = runtime.dnnl;
        this.engine = runtime.engine;
        this.owned = owned;
        this.partition = partition;
        this.threads = context.threads().parallelism();
        this.stepThreads = new StepThreads(dnnl, engine, threads);
        this.program = new ProgramBuilder(dnnl, owned, stepThreads);
        this.layouts = new ValueLayouts(runtime, owned, context.weights(), program, threads);
        for (BoundNode n : partition.nodes()) {
            n.node().inputs().forEach(name -> reads.merge(name, 1, Integer::sum));
        }
        partitionOutputs = Set.copyOf(partition.outputs());
        inputs = new int[partition.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            String name = partition.inputs().get(i);
            inputs[i] = program.activation(layouts.plain(ValueLayouts.dims(partition.shape(name))));
            current.put(name, inputs[i]);
        }
        for (nodeIndex = 0; nodeIndex < partition.nodes().size(); nodeIndex++) {
            node = partition.nodes().get(nodeIndex);
            program.startNode(nodeIndex);
            StringBuilder refusals = new StringBuilder();
            KernelRegistry.Choice<OneDnnKernel> choice = context.kernels().best(OneDnnBackend.ID, OneDnnKernel.class,
                    node, refusals);
            if (choice == null) {
                throw new IllegalArgumentException("onednn cannot lower " + node.node().describe() + ": " + refusals
                        + "; supports() should have refused it");
            }
            int output = choice.create(node, context).lower(this);
            if (output != DEFERRED) {
                current.put(node.node().output(), output);
            } else if (!gated.containsKey(node.node().output())) {
                throw new IllegalStateException("kernel '" + choice.kernel() + "' of '" + choice.provider()
                        + "' returned no value for " + node.node().describe());
            }
            kernels.add(new NodeKernel(node.name(), choice.kernel(), choice.provider(), program.implementation()));
        }
        outputs = new int[partition.outputs().size()];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = value(partition.outputs().get(i));
        }
    }

    /** The context a kernel of Kiln's was given: these kernels lower through more than {@link OneDnnLowering}. */
    static LoweringContext of(OneDnnLowering lowering) {
        if (lowering instanceof LoweringContext c) {
            return c;
        }
        throw new IllegalArgumentException("Kiln's onednn kernels lower through the backend's own context, not "
                + lowering.getClass().getName());
    }

    // ---- the kernel contract

    @Override
    public MemorySegment engine() {
        return engine;
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public int input(int i) {
        return input(node, i);
    }

    @Override
    public MemorySegment md(int value) {
        return program.md(value);
    }

    @Override
    public int as(int value, MemorySegment wanted) {
        return layouts.as(value, wanted);
    }

    @Override
    public int activation(MemorySegment md) {
        return program.activation(layouts.clone(md));
    }

    @Override
    public int step(MemorySegment primitiveDesc, int[] argKinds, int[] args) {
        return program.step(node, primitiveDesc, argKinds, args);
    }

    @Override
    public void pass(int threads, int[] values, int output, Pass pass) {
        program.own(node.name(), threads, values, output, pass);
    }

    @Override
    public void note(String implementation) {
        program.note(implementation);
    }

    // ---- values

    /**
     * The value a node input reads: an activation of this partition, or a constant in plain layout.
     * A squeeze-excitation's output left to this reader ({@link #defer}) is multiplied by its gate
     * here when the reader's kernel reads it as a value (Kiln's convolutions take the gate first).
     */
    int input(BoundNode n, int i) {
        if (n.isConstant(i)) {
            MemorySegment md = layouts.plain(ValueLayouts.dims(n.inputShape(i)));
            return layouts.constant(n, i, md, md);
        }
        String name = n.node().input(i);
        int[] deferred = gated.remove(name);
        if (deferred != null) {
            int multiplied = Gates.multipliedByGate(this, n, deferred[0], deferred[1], n.inputShape(i));
            current.put(name, multiplied);
            return multiplied;
        }
        return value(name);
    }

    private int value(String name) {
        Integer id = current.get(name);
        if (id == null) {
            throw new IllegalStateException("value " + name + " is neither a partition input nor computed before use");
        }
        return id;
    }

    /** Leaves a squeeze-excitation's output, {input, gate}, to the one convolution that reads it. */
    void defer(BoundNode n, int[] inputAndGate) {
        gated.put(n.node().output(), inputAndGate);
    }

    // ---- the partition around the node

    /** How many times the partition's nodes read {@code value}. */
    int timesRead(String value) {
        return reads.getOrDefault(value, 0);
    }

    /** The partition's nodes that read {@code value}. */
    List<BoundNode> readers(String value) {
        return partition.nodes().stream().filter(n -> n.node().inputs().contains(value)).toList();
    }

    /**
     * Whether the convolution {@code n} may overwrite the storage of {@code residual}: an
     * activation of this partition (not a partition input, whose bytes are the caller's), not
     * what the convolution reads, and no value in that storage is read after this node or leaves
     * the partition.
     */
    boolean isLastReadBy(BoundNode n, int residual, int x) {
        int root = program.value(residual).root();
        if (program.value(root).isConstant() || program.value(x).root() == root
                || Arrays.stream(inputs).anyMatch(i -> i == root)) {
            return false;
        }
        Predicate<String> inStorage = name -> current.containsKey(name)
                && program.value(current.get(name)).root() == root;
        return partition.outputs().stream().noneMatch(inStorage)
                && gated.values().stream().flatMapToInt(Arrays::stream).noneMatch(v -> program.value(v).root() == root)
                && partition.nodes().subList(nodeIndex + 1, partition.nodes().size()).stream()
                .flatMap(later -> later.node().inputs().stream()).noneMatch(inStorage);
    }

    // ---- post-ops

    /** The epilogue; a residual is added by a sum post-op when {@code sumInPlace}, else by a binary add reading it. */
    MemorySegment postOps(BoundNode n, List<PostOp> ops, int residual, boolean sumInPlace) {
        if (ops.isEmpty()) {
            return NULL;
        }
        MemorySegment postOps = dnnl.postOpsCreate();
        owned.own(postOps, () -> dnnl.postOpsDestroy(postOps));
        for (PostOp op : ops) {
            switch (op) {
                case PostOp.Activate a -> {
                    float[] e = EltwiseKernel.algorithm(a.function());
                    dnnl.postOpsAppendEltwise(postOps, (int) e[0], e[1], e[2]);
                }
                case PostOp.AddResidual r -> {
                    if (sumInPlace) {
                        dnnl.postOpsAppendSum(postOps);
                    } else {
                        dnnl.postOpsAppendBinary(postOps, Dnnl.BINARY_ADD,
                                layouts.residualLayout(residual, n.outputShape()));
                    }
                }
            }
        }
        return postOps;
    }

    void addResidualArg(List<PostOp> ops, int residual, List<Integer> kinds, List<Integer> args) {
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof PostOp.AddResidual) {
                kinds.add(Dnnl.postOpSrc1(i));
                args.add(residual);
            }
        }
    }

    /** Primitive attributes with these post-ops (or NULL), in user scratchpad mode, owned by the partition. */
    MemorySegment attr(MemorySegment postOps) {
        MemorySegment attr = dnnl.attr(postOps);
        return owned.own(attr, () -> dnnl.attrDestroy(attr));
    }

    int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Where a oneDNN call was made, for its error. */
    String where(BoundNode n) {
        return "for " + n.node().describe() + " with inputs " + n.inputShapes();
    }
}
