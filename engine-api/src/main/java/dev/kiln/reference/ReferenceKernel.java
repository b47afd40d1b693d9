package dev.kiln.reference;

import dev.kiln.spi.KernelContract;

/**
 * One node's kernel on the reference backend: plain loops over row-major float arrays, written
 * to be checked by reading.
 *
 * <p>The contract a kernel provider for backend {@value ReferenceBackend#ID} builds against,
 * version {@value #CONTRACT_VERSION}:
 * <ul>
 *   <li>Every value is a dense row-major {@code float[]} on the heap (NCHW for rank 4), the same
 *       on every machine: there is no lane count.</li>
 *   <li>{@code inputs[i]} is null for an absent optional input; constant inputs (weights) are
 *       there too. Outputs are preallocated and hold garbage from the previous run (kernels
 *       overwrite).</li>
 *   <li>Arrays may be longer than a value (the memory plan shares them between values), so sizes
 *       come from the node's shapes, never from {@code array.length}.</li>
 *   <li>An output may be the same array as input {@link #inPlaceInput()} when that input dies at
 *       this node.</li>
 *   <li>{@code execute} runs on the engine's host threads and may be called from several runs at
 *       once on different arrays; state made at creation is read-only.</li>
 * </ul>
 *
 * <p>Public so that a vendor can register a faster kernel for this backend through a
 * {@link dev.kiln.spi.KernelProvider} for backend {@value ReferenceBackend#ID}: it is then
 * checked against the plain kernel it replaces ({@code KernelConformance} in the conformance kit).
 */
@KernelContract(version = ReferenceKernel.CONTRACT_VERSION)
public interface ReferenceKernel {

    /** The version of this contract, which a provider returns from {@link dev.kiln.spi.KernelProvider#contractVersion()}. */
    int CONTRACT_VERSION = 1;

    void execute(float[][] inputs, float[][] outputs);

    /** The input whose buffer the first output may overwrite, or -1 (the default) for none. */
    default int inPlaceInput() {
        return -1;
    }
}
