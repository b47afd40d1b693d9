package dev.kiln.cpusimd;

import dev.kiln.spi.HostThreads;

/**
 * One node of the cpu-simd backend, created once at compile time (weights packed then) and
 * executed many times. Values of rank 4 live in {@link BlockedLayout} (NCHWc); all others are
 * row-major. Buffers come from the partition's memory plan and may be longer than the value, so
 * sizes come from the node's shapes, never from {@code array.length}; an output may be the same
 * array as an input when {@link #inPlaceInput()} said so.
 */
public interface SimdKernel {

    /** What runs, for {@code explain}: e.g. "1x1 conv as packed GEMM 12x32". */
    String algorithm();

    /** The input whose buffer the output may overwrite (it dies at this node), or -1. */
    default int inPlaceInput() {
        return -1;
    }

    /** Floats of scratch this kernel needs per execution; the workspace shares one scratch among its kernels. */
    default long scratchFloats() {
        return 0;
    }

    /**
     * Computes the node. {@code inputs[i]} is null for an absent optional input; constant inputs
     * the kernel packed at creation need not be read again.
     */
    void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads);
}
