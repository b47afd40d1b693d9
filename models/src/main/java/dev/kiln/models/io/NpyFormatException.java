package dev.kiln.models.io;

import java.io.IOException;

/** A {@code .npy} file that is malformed, truncated, or holds data Kiln cannot use; the message names the file. */
public final class NpyFormatException extends IOException {
    public NpyFormatException(String message) {
        super(message);
    }
}
