/**
 * The toolkit for backend authors: memory planning (which activations can share a buffer, given
 * each value's size in the backend's own layout and which of its kernels run in place) and
 * {@link dev.kiln.spi.memory.HeapValueSlots} (a partition's values as heap arrays, slotted at
 * compile time). Tools a backend calls at compile time, not something the runtime imposes; a
 * backend whose steps are not the graph's nodes (oneDNN's reorders, views, sums in place)
 * describes them as {@link dev.kiln.spi.memory.StepValues} for the same planner. The engine's
 * host threads reach a backend as
 * {@link dev.kiln.spi.HostThreads} in its {@link dev.kiln.spi.CompileContext}. Exported with the
 * SPI; the backend-shape work may still reshape it.
 */
package dev.kiln.spi.memory;
