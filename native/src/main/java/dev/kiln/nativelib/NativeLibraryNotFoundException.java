package dev.kiln.nativelib;

import dev.kiln.KilnException;

/** A shared library a backend needs is not on this machine; the message lists where it was looked for. */
public class NativeLibraryNotFoundException extends KilnException {
    public NativeLibraryNotFoundException(String message) {
        super(message);
    }
}
