package dev.kiln.spi;

/** A backend's answer to "can you run this node?", with the reason when not. */
public record Support(boolean supported, String reason) {
    public static final Support YES = new Support(true, "supported");

    public static Support no(String reason) {
        return new Support(false, reason);
    }
}
