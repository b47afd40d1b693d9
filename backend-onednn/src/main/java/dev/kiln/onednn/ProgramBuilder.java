package dev.kiln.onednn;

import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link Program} being written: its values and its steps in order, each primitive created
 * with the thread count {@link StepThreads} gave its descriptor, and what each node's steps are
 * for {@code explain}. Native handles it makes belong to the partition ({@code owned}).
 */
final class ProgramBuilder {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final Dnnl dnnl;
    private final NativeResources owned;
    private final StepThreads stepThreads;
    final List<Program.Value> values = new ArrayList<>();
    final List<Program.Step> steps = new ArrayList<>();
    /** What the current node's steps are, for {@code explain}. */
    private final List<String> implementations = new ArrayList<>();
    /** The index of the node being lowered, in the partition. */
    private int nodeIndex;

    ProgramBuilder(Dnnl dnnl, NativeResources owned, StepThreads stepThreads) {
        this.dnnl = dnnl;
        this.owned = owned;
        this.stepThreads = stepThreads;
    }

    /** Starts the steps of the partition's node {@code index}. */
    void startNode(int index) {
        nodeIndex = index;
        implementations.clear();
    }

    /** The current node's index in the partition. */
    int nodeIndex() {
        return nodeIndex;
    }

    /** Says what one of the current node's steps is or does, for {@code explain}. */
    void note(String implementation) {
        implementations.add(implementation);
    }

    /** Everything said of the current node, joined. */
    String implementation() {
        return String.join(" + ", implementations);
    }

    Program.Value value(int value) {
        return values.get(value);
    }

    MemorySegment md(int value) {
        return values.get(value).md();
    }

    /** A new value with storage of its own, in layout {@code md}. */
    int activation(MemorySegment md) {
        values.add(new Program.Value(md, dnnl.memoryDescSize(md), values.size(), NULL));
        return values.size() - 1;
    }

    /** The same bytes as {@code value}, described by {@code md}. */
    int alias(int value, MemorySegment md) {
        Program.Value v = values.get(value);
        values.add(new Program.Value(md, dnnl.memoryDescSize(md), v.root(), v.constant()));
        return values.size() - 1;
    }

    /** A prepared constant in layout {@code md}, whose bytes are {@code data}. */
    int constant(MemorySegment md, long bytes, MemorySegment data) {
        values.add(new Program.Value(md, bytes, values.size(), data));
        return values.size() - 1;
    }

    /**
     * A step of Kiln's own kernel: it reads and writes {@code values} (given the buffers), {@code output} needing
     * storage.
     */
    void own(String node, int threads, int[] values, int output, OneDnnLowering.Pass kernel) {
        steps.add(new Program.Step(node, nodeIndex, threads, NULL, new int[0], values, output, NULL, 0, kernel));
    }

    /** Creates the primitive for {@code pd} (then frees {@code pd}), with a new output value in the layout it chose. */
    int step(BoundNode n, MemorySegment pd, int[] kinds, int[] args) {
        MemorySegment dst = clone(dnnl.queryMd(pd, Dnnl.QUERY_DST_MD, 0));
        boolean serial = stepThreads.isOneThread(pd);
        implementations.add(dnnl.implementation(pd) + " to " + Layouts.tag(dnnl, dst) + (serial ? " on 1 thread" : ""));
        return stepRaw(n.name(), pd, kinds, args, dst, serial ? 1 : stepThreads.threads);
    }

    /**
     * Like {@link #step}, writing into the storage of {@code into} (which the primitive reads
     * there too, as a sum post-op does): its output is a view of {@code into}.
     */
    int stepInto(BoundNode n, MemorySegment pd, int[] kinds, int[] args, int into) {
        int output = step(n, pd, kinds, args);
        Program.Value v = values.get(output);
        values.set(output, new Program.Value(v.md(), v.bytes(), values.get(into).root(), NULL));
        return output;
    }

    /**
     * Fails loudly where oneDNN's primitive cache returned a primitive of another implementation
     * than {@code pd} chose (its key took two descriptors as equal that dispatch differently, see
     * {@link ValueLayouts#residualLayout}): that primitive may read its arguments in other layouts than the
     * ones Kiln prepared from {@code pd}, a silent wrong answer otherwise.
     */
    private void requireSameImplementation(String node, MemorySegment pd, MemorySegment primitive) {
        String wanted = dnnl.implementation(pd);
        String got = dnnl.primitiveImplementation(primitive);
        if (!wanted.equals(got)) {
            throw new IllegalStateException("oneDNN's primitive cache returned a " + got + " primitive for node "
                    + node + ", whose descriptor chose " + wanted + "; run with ONEDNN_PRIMITIVE_CACHE_CAPACITY=0"
                    + " and report the model");
        }
    }

    /** Creates the primitive for {@code pd} (then frees {@code pd}) on {@code threads} threads, writing a new value. */
    int stepRaw(String node, MemorySegment pd, int[] kinds, int[] args, MemorySegment outputMd, int threads) {
        int engineThreads = stepThreads.threads;
        try {
            MemorySegment scratchMd = dnnl.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0);
            long scratchBytes = scratchMd.equals(NULL) ? 0 : dnnl.memoryDescSize(scratchMd);
            MemorySegment scratch = scratchBytes == 0 ? NULL : clone(scratchMd);
            // oneDNN's primitive cache keys a primitive by the thread count in force where it is
            // created, not by its descriptor's: a descriptor made for one thread, created with the
            // engine's count in force, would be handed to a later compilation that asks for that
            // many (and the reverse), and run with the wrong count it skips part of the work.
            if (threads != engineThreads) {
                dnnl.setThreads(threads);
            }
            MemorySegment primitive;
            try {
                primitive = dnnl.primitiveCreate(pd, "for node " + node);
            } finally {
                if (threads != engineThreads) {
                    dnnl.setThreads(engineThreads);
                }
            }
            owned.own(primitive, () -> dnnl.primitiveDestroy(primitive));
            requireSameImplementation(node, pd, primitive);
            int output = activation(outputMd);
            int[] allKinds = Arrays.copyOf(kinds, kinds.length + 1);
            int[] allArgs = Arrays.copyOf(args, args.length + 1);
            allKinds[kinds.length] = Dnnl.ARG_DST;
            allArgs[args.length] = output;
            steps.add(new Program.Step(node, nodeIndex, threads, primitive, allKinds, allArgs, output, scratch,
                    scratchBytes, null));
            return output;
        } finally {
            dnnl.primitiveDescDestroy(pd);
        }
    }

    private MemorySegment clone(MemorySegment md) {
        MemorySegment copy = dnnl.memoryDescClone(md);
        return owned.own(copy, () -> dnnl.memoryDescDestroy(copy));
    }
}
