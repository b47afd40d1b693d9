package dev.kiln.conformance.blocked;

/**
 * One node compiled for the blocked backend: reads its activation inputs and writes its output,
 * all in NCHW16c. {@code inputs[i]} is null for an input the kernel took at compile time (weights).
 */
@FunctionalInterface
interface BlockedKernel {
    void execute(float[][] inputs, float[] output);
}
