package dev.kiln.reference;

import dev.kiln.spi.BoundNode;

/**
 * One op of the reference backend: plain loops over row-major float arrays, written to be
 * checked by reading. {@code inputs[i]} is null for an absent optional input; outputs are
 * preallocated and hold garbage from the previous run (kernels overwrite). Arrays may be longer
 * than a value (the memory plan shares them between values), so sizes come from the node's
 * shapes, never from {@code array.length}; an output may be the same array as an input when
 * the memory plan runs the op in place.
 */
@FunctionalInterface
public interface ReferenceKernel {
    void execute(BoundNode node, float[][] inputs, float[][] outputs);
}
