package dev.kiln.runtime;

import dev.kiln.spi.Partition;

/**
 * The old home of {@link dev.kiln.spi.memory.HeapValueSlots}, kept so that a plugin compiled
 * against it still loads from the class path (its calls resolve through this subclass). Not
 * reachable on the module path, where this package is not exported.
 *
 * @deprecated use {@link dev.kiln.spi.memory.HeapValueSlots}, the backend toolkit's; to be removed
 */
@Deprecated(forRemoval = true)
public final class HeapValueSlots extends dev.kiln.spi.memory.HeapValueSlots {
    public HeapValueSlots(Partition partition) {
        super(partition);
    }
}
