package dev.kiln;

/** A backend was asked for by name and cannot be used: unknown, or unavailable for a reason it gives. */
public class BackendUnavailableException extends KilnException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
