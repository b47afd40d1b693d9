package dev.kiln.spi;

/** A kernel's answer to "can you run this node?": a priority when it can, a reason when not. */
public record KernelSupport(boolean supported, int priority, String reason) {
    /** The priority of a backend's own kernels; a vendor's faster kernel bids higher. */
    public static final int DEFAULT_PRIORITY = 100;

    public static KernelSupport yes() {
        return new KernelSupport(true, DEFAULT_PRIORITY, "supported");
    }

    public static KernelSupport withPriority(int priority) {
        return new KernelSupport(true, priority, "supported");
    }

    public static KernelSupport no(String reason) {
        return new KernelSupport(false, Integer.MIN_VALUE, reason);
    }
}
