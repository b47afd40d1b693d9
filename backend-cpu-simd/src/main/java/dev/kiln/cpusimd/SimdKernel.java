package dev.kiln.cpusimd;

import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelContract;

import java.util.Set;

/**
 * One node of the cpu-simd backend, created once at compile time (weights packed then) and
 * executed many times.
 *
 * <p>The contract a kernel provider for backend {@value CpuSimdBackend#ID} builds against,
 * version {@value #CONTRACT_VERSION}:
 * <ul>
 *   <li>Values of rank 4 are heap {@code float[]} in {@link BlockedLayout}: NCHWc,
 *       [N][ceil(C / c)][H][W][c], where c = {@link BlockedLayout#LANES}, the lane count of the
 *       JVM's preferred float vector on this machine: 16 with AVX-512, 8 with AVX2
 *       ({@code -XX:UseAVX=2}), 4 on NEON or with {@code -XX:MaxVectorSize=16}. Read it at run
 *       time, never assume it. Channels past C in the last block are padding: a kernel may read
 *       them as zero and must write them as zero. Values of every other rank are row-major.</li>
 *   <li>Buffers come from the partition's memory plan and may be longer than the value, so sizes
 *       come from the node's shapes, never from {@code array.length}; an output may be the same
 *       array as input {@link #inPlaceInput()} when that input dies at this node.</li>
 *   <li>{@code inputs[i]} is null for an absent optional input, and for a constant input (weights
 *       are read once, at creation, from the node's constants, through the context's
 *       {@code PreparedWeights}).</li>
 *   <li>{@code scratch} is shared by the partition's kernels, at least {@link #scratchFloats()}
 *       long, and holds garbage.</li>
 *   <li>{@code execute} may split its work over {@code threads} and may be called by several
 *       runs at once on different arrays; state made at creation is read-only.</li>
 *   <li>Fusion is by declaration, not by class: a kernel that takes part in one of the backend's
 *       fused forms says so in {@link #fusedForms()} and implements that form's interface.</li>
 * </ul>
 */
@KernelContract(version = SimdKernel.CONTRACT_VERSION)
public interface SimdKernel {

    /** The version of this contract, which a provider returns from {@link dev.kiln.spi.KernelProvider#contractVersion()}. */
    int CONTRACT_VERSION = 1;

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
     * The fused forms this kernel takes part in, each with its interface implemented
     * ({@link FusedForm}). The partition fuses a kernel into a form only when it declares it,
     * whatever its class or provider; asked once at compile time, so the answer may depend on the
     * node (a convolution with a residual input computes no rows alone). Default: none, and the
     * kernel runs as a step of its own.
     */
    default Set<FusedForm> fusedForms() {
        return Set.of();
    }

    /**
     * Computes the node. {@code inputs[i]} is null for an absent optional input; constant inputs
     * the kernel packed at creation need not be read again.
     */
    void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads);
}
