package dev.kiln.onednn;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Names for oneDNN memory descriptors: oneDNN's own tag notation for people ({@code abcd} is
 * NCHW, {@code aBcd16b} is NCHW16c: channels in blocks of 16 innermost), and an exact key for
 * caches, which tells two layouts apart whenever oneDNN would. And what a layout lets one read
 * it as: a run of channels in order, or runs of one channel after another.
 */
final class Layouts {
    private Layouts() {
    }

    /** The tag, e.g. {@code aBcd16b}; {@code any} or {@code opaque} for layouts that have none. */
    static String tag(Dnnl dnnl, MemorySegment md) {
        int kind = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_FORMAT_KIND);
        if (kind == Dnnl.FORMAT_ANY) {
            return "any";
        }
        if (kind != Dnnl.FORMAT_KIND_BLOCKED) {
            return "opaque";
        }
        int rank = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_NDIMS);
        long[] strides = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_STRIDES, rank);
        int blocks = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_INNER_NBLKS);
        long[] sizes = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_BLKS, blocks);
        long[] axes = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_IDXS, blocks);
        boolean[] blocked = new boolean[rank];
        for (long axis : axes) {
            blocked[(int) axis] = true;
        }
        StringBuilder tag = new StringBuilder();
        // Outer dimensions from the largest stride to the smallest; ties keep the logical order.
        IntStream.range(0, rank).boxed()
                .sorted(Comparator.comparingLong((Integer d) -> -strides[d]).thenComparingInt(d -> d))
                .forEach(d -> tag.append(blocked[d] ? Character.toUpperCase(letter(d)) : letter(d)));
        for (int b = 0; b < blocks; b++) {
            tag.append(sizes[b]).append(letter((int) axes[b]));
        }
        return tag.toString();
    }

    /** Everything that distinguishes the layout: dims, strides and inner blocks. */
    static String key(Dnnl dnnl, MemorySegment md) {
        int rank = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_NDIMS);
        long[] dims = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_DIMS, rank);
        int kind = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_FORMAT_KIND);
        if (kind != Dnnl.FORMAT_KIND_BLOCKED) {
            return Arrays.toString(dims) + " kind " + kind + " size " + dnnl.memoryDescSize(md);
        }
        int blocks = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_INNER_NBLKS);
        return Arrays.toString(dims) + " strides " + Arrays.toString(dnnl.memoryDescQueryDims(md, Dnnl.QUERY_STRIDES,
                rank)) + " blocks " + Arrays.toString(dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_BLKS, blocks))
                + " on " + Arrays.toString(dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_IDXS, blocks));
    }

    /** A blocked layout of {@code channels} values and nothing else: whatever its blocking, value c is at c. */
    static boolean isChannelsInOrder(Dnnl dnnl, MemorySegment md, long channels) {
        return dnnl.memoryDescQueryInt(md, Dnnl.QUERY_FORMAT_KIND) == Dnnl.FORMAT_KIND_BLOCKED
                && dnnl.memoryDescSize(md) == channels * Float.BYTES;
    }

    /**
     * For a layout of weights [O, C, ...], the length of the run each input channel's values
     * take before the next channel's (the inner blocks), when the layout is such runs, channel
     * after channel, repeated: no blocking on C, C's stride the inner blocks' size, every other
     * dimension's stride a multiple of C runs. Otherwise -1.
     */
    static long innerRunPerChannel(Dnnl dnnl, MemorySegment md, long channels) {
        if (dnnl.memoryDescQueryInt(md, Dnnl.QUERY_FORMAT_KIND) != Dnnl.FORMAT_KIND_BLOCKED) {
            return -1;
        }
        int rank = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_NDIMS);
        long[] dims = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_DIMS, rank);
        long[] strides = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_STRIDES, rank);
        int blocks = dnnl.memoryDescQueryInt(md, Dnnl.QUERY_INNER_NBLKS);
        long[] sizes = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_BLKS, blocks);
        long[] axes = dnnl.memoryDescQueryDims(md, Dnnl.QUERY_INNER_IDXS, blocks);
        long inner = 1;
        for (int b = 0; b < blocks; b++) {
            if (axes[b] == 1) {
                return -1;
            }
            inner *= sizes[b];
        }
        long row = channels * inner;
        if (rank < 2 || dims[1] != channels || strides[1] != inner
                || dnnl.memoryDescSize(md) % (row * Float.BYTES) != 0) {
            return -1;
        }
        for (int d = 0; d < rank; d++) {
            if (d != 1 && dims[d] > 1 && strides[d] % row != 0) {
                return -1;
            }
        }
        return inner;
    }

    private static char letter(int axis) {
        return (char) ('a' + axis);
    }
}
