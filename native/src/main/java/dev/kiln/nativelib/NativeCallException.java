package dev.kiln.nativelib;

import dev.kiln.KilnException;

/** A native function returned a failure status: names the call, the status and what Kiln was doing. */
public class NativeCallException extends KilnException {
    private final String call;
    private final int status;

    public NativeCallException(String call, int status, String statusName, String context) {
        super(call + " failed with " + statusName + " (status " + status + ")"
                + (context == null || context.isEmpty() ? "" : " " + context));
        this.call = call;
        this.status = status;
    }

    public String call() {
        return call;
    }

    public int status() {
        return status;
    }
}
