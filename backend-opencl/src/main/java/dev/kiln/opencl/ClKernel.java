package dev.kiln.opencl;

import dev.kiln.spi.KernelContract;

import java.util.List;

/**
 * One node of the OpenCL backend: created once at compile time, then bound to each workspace's
 * buffers as the launches that compute it.
 *
 * <p>The contract a kernel provider for backend {@value OpenClBackend#ID} builds against,
 * version {@value #CONTRACT_VERSION}:
 * <ul>
 *   <li>Values are dense row-major (NCHW for rank 4) float32 device buffers, JOCL
 *       {@code cl_mem} handles that {@link Binding} gives per workspace: the same layout on every
 *       device, no lane count. A buffer may be longer than its value (the memory plan shares
 *       them, and every buffer has {@link OpenClContext#TAIL_FLOATS} floats past its data that a
 *       kernel may read but must not rely on), so sizes come from the node's shapes.</li>
 *   <li>A kernel builds its own programs in the device's context ({@link OpenClContext#clContext()},
 *       {@link OpenClContext#clDevice()}) at creation; Kiln's own program is not part of the
 *       contract.</li>
 *   <li>{@link #bind} runs once per workspace; its launches are enqueued in order on that
 *       workspace's in-order queue on every run, and must not block. Launches release what
 *       binding made; the buffers belong to the workspace.</li>
 * </ul>
 */
@KernelContract(version = ClKernel.CONTRACT_VERSION)
public interface ClKernel {

    /** The version of this contract, which a provider returns from {@link dev.kiln.spi.KernelProvider#contractVersion()}. */
    int CONTRACT_VERSION = 1;

    /** How it computes the node, for {@code explain}. */
    String algorithm();

    /** The input whose buffer the output may share (it dies at this node), or -1. */
    default int inPlaceInput() {
        return -1;
    }

    /** The launches that compute the node on one workspace's buffers, in order. */
    List<Launch> bind(Binding binding);
}
