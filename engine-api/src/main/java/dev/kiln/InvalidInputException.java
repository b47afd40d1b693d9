package dev.kiln;

/** A call to a compiled model with inputs that do not match the model; the model stays usable. */
public class InvalidInputException extends KilnException {
    public InvalidInputException(String message) {
        super(message);
    }
}
