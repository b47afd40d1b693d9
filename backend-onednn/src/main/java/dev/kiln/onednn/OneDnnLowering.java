package dev.kiln.onednn;

import java.lang.foreign.MemorySegment;

/**
 * What a {@link OneDnnKernel} lowers its node through: the partition's values (numbered, each with
 * its oneDNN memory descriptor), readers' layouts, and step creation. Descriptors and handles are
 * oneDNN 3.x C API ones ({@code dnnl_engine_t}, {@code dnnl_memory_desc_t},
 * {@code dnnl_primitive_desc_t}); a descriptor passed in stays the caller's (it is cloned where
 * kept), a primitive descriptor passed to {@link #step} is the lowering's (it frees it).
 */
public interface OneDnnLowering {

    /** The oneDNN CPU engine primitives are created on. */
    MemorySegment engine();

    /** The engine's thread count, in force while the kernel creates primitives. */
    int threads();

    /** The value the node's input {@code i} reads; a constant input comes prepared in plain layout. */
    int input(int i);

    /** A value's memory descriptor, owned by the partition. */
    MemorySegment md(int value);

    /** {@code value} in layout {@code wanted}: itself, or a reorder of it that its readers share. */
    int as(int value, MemorySegment wanted);

    /** A new value of layout {@code md} with storage of its own (for a {@link #pass}'s output). */
    int activation(MemorySegment md);

    /**
     * Creates the primitive of {@code primitiveDesc}, on the engine's threads, reading {@code args}
     * as {@code argKinds} ({@code DNNL_ARG_*}); it writes a new value in the layout of its
     * destination descriptor, which is returned.
     */
    int step(MemorySegment primitiveDesc, int[] argKinds, int[] args);

    /**
     * A step of the kernel's own code, on {@code threads} threads: {@code pass} is given every
     * value's buffer, by value number, and reads or writes {@code values}; {@code output} is the
     * value among them it writes.
     */
    void pass(int threads, int[] values, int output, Pass pass);

    /** Says what one of the node's steps is or does, for {@code explain}. */
    void note(String implementation);

    /** Code run as a step on a workspace's buffers, indexed by value. */
    @FunctionalInterface
    interface Pass {
        void run(MemorySegment[] buffers);
    }
}
