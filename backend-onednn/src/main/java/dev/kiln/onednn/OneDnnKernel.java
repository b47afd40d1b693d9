package dev.kiln.onednn;

import dev.kiln.spi.KernelContract;

/**
 * The onednn backend's kernel interface, a versioned contract for kernel providers
 * ({@link dev.kiln.spi.KernelProvider} for backend {@code onednn}): a kernel is created for one
 * node at compile time ({@link dev.kiln.spi.KernelFactory#create}) and lowers that node into
 * steps of the partition's program, once, through the {@link OneDnnLowering} it is given; the
 * steps then run on every workspace. What it sees:
 *
 * <ul>
 *   <li>values: numbered native buffers, each with its oneDNN memory descriptor (a
 *       {@code dnnl_memory_desc_t}, owned by the partition): whatever layout its producer chose
 *       (blocked, channels-last, plain). A kernel that wants another layout asks for it
 *       ({@link OneDnnLowering#as}: the value itself or one reorder its readers share) and never
 *       assumes one;</li>
 *   <li>no lane count: a layout's blocking is in its descriptor;</li>
 *   <li>threads: a step runs on oneDNN's OpenMP team of the engine's count
 *       ({@link OneDnnLowering#threads}), from the backend's one oneDNN thread; a primitive is
 *       created with that count in force;</li>
 *   <li>constant inputs: {@link OneDnnLowering#input} gives them prepared in plain layout;
 *       scratch: a primitive's scratchpad is the workspace's, sized for the largest.</li>
 * </ul>
 *
 * Kiln's own kernels ({@link OneDnnKernels}) lower through more of the backend than this
 * contract shows (its layout, thread-sizing and post-op logic), which is why the lowering is
 * an interface.
 */
@KernelContract(version = OneDnnKernel.CONTRACT_VERSION)
public interface OneDnnKernel {
    /** The version of this contract, for {@link dev.kiln.spi.KernelProvider#contractVersion()}. */
    int CONTRACT_VERSION = 1;

    /** Lowers the kernel's node into steps; returns the value that holds the node's output. */
    int lower(OneDnnLowering lowering);
}
