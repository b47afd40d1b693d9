package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.nativelib.NativeCallException;
import dev.kiln.nativelib.NativeResources;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.PreparedWeights;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The layouts of a partition's values and how a reader gets the one it wants, oneDNN's way: a
 * value stays in the layout its producer wrote, and a reader that wants another gets a reorder,
 * made once per (value, layout) however many readers share it. Constants are reordered into the
 * layout their primitive chose once per compiled model (kept in its prepared weights), and a
 * node's weights keep the layout chosen for the first batch size where oneDNN runs it as fast.
 * Makes the memory descriptors (plain, {@code any}, strided, channels-last), all owned by the
 * partition.
 */
final class ValueLayouts {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private final OneDnnRuntime runtime;
    private final Dnnl dnnl;
    private final NativeResources owned;
    private final PreparedWeights weights;
    private final ProgramBuilder program;
    /** The engine's thread count, which reorders run with. */
    private final int threads;
    /** Reorders made so far, by "value layout-key". */
    private final Map<String, Integer> converted = new HashMap<>();

    ValueLayouts(OneDnnRuntime runtime, NativeResources owned, PreparedWeights weights, ProgramBuilder program,
                 int threads) {
        this.runtime = runtime;
        this.threads = threads;
        this.dnnl = runtime.dnnl;
        this.owned = owned;
        this.weights = weights;
        this.program = program;
    }

    // ---- readers' layouts

    /** {@code value} in layout {@code wanted} (owned by someone else: cloned when kept): itself, or a reorder of it. */
    int as(int value, MemorySegment wanted) {
        Program.Value v = program.value(value);
        if (dnnl.memoryDescEqual(v.md(), wanted)) {
            return value;
        }
        String key = value + " " + Layouts.key(dnnl, wanted);
        Integer done = converted.get(key);
        if (done != null) {
            return done;
        }
        if (v.isConstant()) {
            throw new IllegalStateException("constants are prepared in the layout their primitive wants");
        }
        MemorySegment md = clone(wanted);
        MemorySegment attr = dnnl.attr(NULL);
        owned.own(attr, () -> dnnl.attrDestroy(attr));
        MemorySegment pd = dnnl.reorder(runtime.engine, v.md(), md, attr, "reordering a value to "
                + Layouts.tag(dnnl, md));
        int to = program.stepRaw("reorder", pd, new int[]{Dnnl.ARG_FROM}, new int[]{value}, md, threads);
        converted.put(key, to);
        return to;
    }

    /** A reshape: the value in plain layout, seen with other dims; no bytes move. */
    int view(int x, Shape from, long[] to) {
        return program.alias(as(x, plain(dims(from))), plain(to));
    }

    /**
     * The layout a binary post-op is told the residual has (or a sum post-op's destination, the
     * residual's own storage). oneDNN's primitive cache compares
     * memory descriptors without the strides of size-1 dims ([2,4,1,1] in abcd equals it in acdb),
     * while its convolutions choose an implementation by them (brg_conv_fwd takes the acdb
     * residual, ref:any the abcd one): so a convolution with an acdb residual was handed the
     * cached ref:any primitive of an earlier model's abcd one, reading the weights Kiln had
     * reordered for brg_conv_fwd as plain (a wrong answer; fuzz finding
     * onednn-cached-primitive-after-an-earlier-model). Of the descriptors oneDNN calls equal, one
     * is passed (channels-last, else plain): equal keys then stand for equal primitives. The bytes
     * are the same, so the residual's memory is read as it is. {@code shape} is the residual's
     * (the convolution's output shape).
     */
    MemorySegment residualLayout(int residual, Shape shape) {
        MemorySegment md = program.md(residual);
        if (shape.rank() != 4) {
            return md;
        }
        MemorySegment channelsLast = channelsLast(shape);
        if (dnnl.memoryDescEqual(md, channelsLast)) {
            return channelsLast;
        }
        MemorySegment plain = plain(dims(shape));
        return dnnl.memoryDescEqual(md, plain) ? plain : md;
    }

    // ---- constants

    /**
     * Constant input {@code i} of {@code n}, stored as {@code storedMd} describes its bytes, in the
     * layout {@code wanted}: reordered once per compiled model and kept in its prepared weights.
     */
    int constant(BoundNode n, int i, MemorySegment storedMd, MemorySegment wanted) {
        Tensor tensor = n.constant(i);
        if (tensor == null) {
            throw new IllegalArgumentException(n.node().describe() + ": input " + i + " must be a constant");
        }
        long stored = dnnl.memoryDescSize(storedMd);
        if (stored != tensor.elementCount() * Float.BYTES) {
            throw new IllegalArgumentException(n.node().describe() + ": constant input " + i + " holds "
                    + tensor.elementCount() + " values, its layout needs " + stored / Float.BYTES);
        }
        return prepared(n, "input " + i, wanted, (md, data) -> runtime.reorderNow(storedMd, tensor.segment(), md,
                data, "preparing input " + i + " of " + n.node().describe()));
    }

    /**
     * A constant of {@code n} in layout {@code wanted}, which {@code fill} writes (given the
     * layout and the bytes) once per compiled model and its prepared weights keep; {@code what}
     * names it among the node's.
     */
    int prepared(BoundNode n, String what, MemorySegment wanted, BiConsumer<MemorySegment, MemorySegment> fill) {
        MemorySegment md = clone(wanted);
        long bytes = dnnl.memoryDescSize(md);
        String key = "onednn " + n.name() + " " + what + " as " + Layouts.key(dnnl, md);
        PreparedMemory prepared = weights.get(key, () -> {
            NativeResources resources = new NativeResources();
            MemorySegment data = resources.allocate(bytes, 64);
            fill.accept(md, data);
            return new PreparedMemory(resources, data);
        }, PreparedMemory::bytes);
        return program.constant(md, bytes, prepared.data());
    }

    /**
     * A primitive descriptor made by {@code create}, with weights in {@code any} layout the first
     * time. Later shapes (batch sizes) of the same model take the layout chosen first when oneDNN
     * runs it with the same implementation as its own choice, so the weights prepared once serve
     * them; a layout that would cost a slower implementation (oneDNN always has a reference one)
     * is not forced, and those weights are prepared again in the layout oneDNN prefers.
     */
    MemorySegment withWeightLayout(BoundNode n, String what, long[] weightDims,
                                   Function<MemorySegment, MemorySegment> create) {
        WeightLayoutChoice choice = weights.get("onednn layout of " + n.name() + " " + what,
                WeightLayoutChoice::new, c -> 0L);
        MemorySegment preferred = create.apply(any(weightDims));
        MemorySegment earlier = choice.chosen();
        if (earlier.equals(NULL)) {
            choice.remember(dnnl, dnnl.queryMd(preferred, Dnnl.QUERY_WEIGHTS_MD, 0));
            return preferred;
        }
        if (dnnl.memoryDescEqual(earlier, dnnl.queryMd(preferred, Dnnl.QUERY_WEIGHTS_MD, 0))) {
            return preferred;
        }
        MemorySegment reusing;
        try {
            reusing = create.apply(earlier);
        } catch (NativeCallException e) {
            return preferred;
        }
        if (dnnl.implementation(reusing).equals(dnnl.implementation(preferred))) {
            dnnl.primitiveDescDestroy(preferred);
            return reusing;
        }
        dnnl.primitiveDescDestroy(reusing);
        return preferred;
    }

    // ---- descriptors, all owned by the partition

    /** Dense row-major ({@code abcd}...). */
    MemorySegment plain(long[] dims) {
        MemorySegment md = dnnl.memoryDesc(dims, false);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    /** Left for the primitive to choose. */
    MemorySegment any(long[] dims) {
        MemorySegment md = dnnl.memoryDesc(dims, true);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    MemorySegment strided(long[] dims, long[] strides) {
        MemorySegment md = dnnl.memoryDescWithStrides(dims, strides);
        return owned.own(md, () -> dnnl.memoryDescDestroy(md));
    }

    /** A plain [N, C, H, W] value stored channels-last (oneDNN's acdb). */
    MemorySegment channelsLast(Shape s) {
        return strided(dims(s), new long[]{s.dim(1) * s.dim(2) * s.dim(3), 1, s.dim(3) * s.dim(1), s.dim(1)});
    }

    /** A copy of a descriptor someone else owns (a primitive descriptor's answer), to keep. */
    MemorySegment clone(MemorySegment md) {
        MemorySegment copy = dnnl.memoryDescClone(md);
        return owned.own(copy, () -> dnnl.memoryDescDestroy(copy));
    }

    static long[] dims(Shape s) {
        long[] dims = new long[s.rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = s.dim(i);
        }
        return dims;
    }

}
