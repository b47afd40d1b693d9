/**
 * Memory planning for backends: which activations can share a buffer, given each value's size in
 * the backend's own layout and which of its kernels run in place. A tool a backend calls at
 * compile time, not something the runtime imposes; the oneDNN backend plans its own storage.
 */
package dev.kiln.spi.memory;
