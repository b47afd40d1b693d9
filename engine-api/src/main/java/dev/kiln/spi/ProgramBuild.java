package dev.kiln.spi;

import java.util.Objects;

/**
 * How a partition got the device program it runs, for backends that compile one at run time
 * (OpenCL C, for example): compiled now, loaded from a cache on disk, or reused from memory
 * (built earlier in this process for the same device), and how long that took.
 *
 * @param origin where the program came from
 * @param millis how long getting it took for this partition (near zero when reused from memory)
 * @param note   anything else worth showing (e.g. how the program reused from memory was first
 *               built, or why a cached binary was rebuilt); empty when nothing
 */
public record ProgramBuild(Origin origin, double millis, String note) {

    public enum Origin {
        /** Compiled from source for this partition. */
        COMPILED,
        /** Loaded from a binary a previous process stored on disk. */
        DISK_CACHE,
        /** Reused: this process already had the program for the device. */
        MEMORY_CACHE
    }

    public ProgramBuild {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(note, "note (empty when nothing)");
        if (!(millis >= 0)) {
            throw new IllegalArgumentException("program build time must be at least 0 ms, got " + millis);
        }
    }

    /** One line, e.g. {@code compiled in 6600 ms} or {@code from the disk cache in 12 ms}. */
    public String describe() {
        String how = switch (origin) {
            case COMPILED -> "compiled";
            case DISK_CACHE -> "from the disk cache";
            case MEMORY_CACHE -> "from the memory cache";
        };
        return how + String.format(java.util.Locale.ROOT, " in %.0f ms", millis) + (note.isEmpty() ? "" : " (" + note + ")");
    }
}
