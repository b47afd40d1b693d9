package dev.kiln.spi;

import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * Weights a backend has transformed (folded, packed, reordered, uploaded), kept once per
 * compiled model and shared by the plans of every input shape it compiles: a new batch size
 * compiles its partitions again but finds its weights here. A value that is
 * {@link AutoCloseable} is closed with the model.
 */
public interface PreparedWeights {

    /**
     * The value stored under {@code key}, made by {@code make} on the first request. Keys are the
     * backend's business; include in them whatever the value depends on (the node's name, the
     * packing, the device), never the batch size.
     *
     * @param bytes how much memory the value holds, for reports
     */
    <T> T get(String key, Supplier<T> make, ToLongFunction<T> bytes);

    /** Bytes held by every value made so far. */
    long bytes();

    /** A store that keeps nothing: every request makes its value anew. */
    static PreparedWeights unshared() {
        return new PreparedWeights() {
            private long bytes;

            @Override
            public synchronized <T> T get(String key, Supplier<T> make, ToLongFunction<T> size) {
                T value = make.get();
                bytes += size.applyAsLong(value);
                return value;
            }

            @Override
            public synchronized long bytes() {
                return bytes;
            }
        };
    }
}
