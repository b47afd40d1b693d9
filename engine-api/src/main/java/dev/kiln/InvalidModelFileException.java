package dev.kiln;

/** A model file the engine cannot read: no installed {@link dev.kiln.spi.ModelFormat} takes it; the message names the file. */
public class InvalidModelFileException extends KilnException {
    public InvalidModelFileException(String message) {
        super(message);
    }
}
