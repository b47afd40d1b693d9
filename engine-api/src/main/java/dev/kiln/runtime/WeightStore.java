package dev.kiln.runtime;

import dev.kiln.spi.PreparedWeights;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/** A compiled model's prepared weights: made once per key, shared by all its plans, closed with it. */
public final class WeightStore implements PreparedWeights, AutoCloseable {
    private final ConcurrentHashMap<String, Object> values = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean closed;

    @Override
    public <T> T get(String key, Supplier<T> make, ToLongFunction<T> size) {
        if (closed) {
            throw new IllegalStateException("the compiled model is closed");
        }
        @SuppressWarnings("unchecked")
        T value = (T) values.computeIfAbsent(key, k -> {
            T made = make.get();
            bytes.addAndGet(size.applyAsLong(made));
            return made;
        });
        return value;
    }

    @Override
    public long bytes() {
        return bytes.get();
    }

    public int size() {
        return values.size();
    }

    @Override
    public void close() {
        closed = true;
        for (Object v : values.values()) {
            if (v instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing prepared weights failed: " + e.getMessage(), e);
                }
            }
        }
        values.clear();
    }
}
