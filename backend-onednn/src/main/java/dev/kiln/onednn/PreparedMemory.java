package dev.kiln.onednn;

import dev.kiln.nativelib.NativeResources;

import java.lang.foreign.MemorySegment;

/**
 * A constant in the layout a primitive asked for (weights reordered once), kept in a compiled
 * model's prepared weights and shared by every plan and workspace of that model.
 */
record PreparedMemory(NativeResources resources, MemorySegment data) implements AutoCloseable {

    long bytes() {
        return data.byteSize();
    }

    @Override
    public void close() {
        resources.close();
    }
}
