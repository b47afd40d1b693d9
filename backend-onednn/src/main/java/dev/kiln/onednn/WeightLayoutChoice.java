package dev.kiln.onednn;

import dev.kiln.nativelib.NativeResources;

import java.lang.foreign.MemorySegment;

/**
 * The weights layout oneDNN chose for a node the first time a compiled model compiled it. Later
 * plans of the same model (other batch sizes) ask for this layout first, so the weights prepared
 * once serve them too; oneDNN may pick another layout per batch size if left free, which would
 * prepare (and hold) the weights again.
 */
final class WeightLayoutChoice implements AutoCloseable {
    private final NativeResources resources = new NativeResources();
    private MemorySegment md = MemorySegment.NULL;

    /** The layout chosen before, or NULL the first time. */
    synchronized MemorySegment chosen() {
        return md;
    }

    /** Remembers the first choice (a copy of {@code chosen}); later calls keep the first. */
    synchronized void remember(Dnnl dnnl, MemorySegment chosen) {
        if (md.equals(MemorySegment.NULL)) {
            MemorySegment copy = dnnl.memoryDescClone(chosen);
            md = resources.own(copy, () -> dnnl.memoryDescDestroy(copy));
        }
    }

    @Override
    public void close() {
        resources.close();
    }
}
