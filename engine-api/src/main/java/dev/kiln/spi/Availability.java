package dev.kiln.spi;

/** Whether a backend can run here; when not, a reason a user can act on. */
public record Availability(boolean available, String reason) {
    public static final Availability AVAILABLE = new Availability(true, "available");

    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
