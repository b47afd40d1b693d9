package dev.kiln.reference;

import dev.kiln.spi.BoundNode;

/**
 * One op of the reference backend: plain loops over row-major float arrays, written to be
 * checked by reading. {@code inputs[i]} is null for an absent optional input; outputs are
 * preallocated to their shapes and hold garbage from the previous run (kernels overwrite).
 */
@FunctionalInterface
public interface ReferenceKernel {
    void execute(BoundNode node, float[][] inputs, float[][] outputs);
}
