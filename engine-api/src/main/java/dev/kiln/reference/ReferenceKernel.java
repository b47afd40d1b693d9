package dev.kiln.reference;

/**
 * One node's kernel on the reference backend: plain loops over row-major float arrays, written
 * to be checked by reading. {@code inputs[i]} is null for an absent optional input; outputs are
 * preallocated and hold garbage from the previous run (kernels overwrite). Arrays may be longer
 * than a value (the memory plan shares them between values), so sizes come from the node's
 * shapes, never from {@code array.length}; an output may be the same array as input
 * {@link #inPlaceInput()} when that input dies at this node.
 *
 * <p>Public so that a vendor can register a faster kernel for this backend through a
 * {@link dev.kiln.spi.KernelProvider} for backend {@value ReferenceBackend#ID}: it is then
 * checked against the plain kernel it replaces.
 */
public interface ReferenceKernel {

    void execute(float[][] inputs, float[][] outputs);

    /** The input whose buffer the first output may overwrite, or -1 (the default) for none. */
    default int inPlaceInput() {
        return -1;
    }
}
