package dev.kiln;

/**
 * A plan that would need more memory than the engine's limits allow ({@link EngineOptions#maxMemoryBytes()},
 * {@link EngineOptions#maxTensorBytes()}): thrown when the plan is compiled, before anything is
 * allocated. The message gives the size needed and the limit.
 */
public class MemoryLimitException extends KilnException {
    private final long neededBytes;
    private final long limitBytes;

    public MemoryLimitException(String message, long neededBytes, long limitBytes) {
        super(message);
        this.neededBytes = neededBytes;
        this.limitBytes = limitBytes;
    }

    public long neededBytes() {
        return neededBytes;
    }

    public long limitBytes() {
        return limitBytes;
    }
}
