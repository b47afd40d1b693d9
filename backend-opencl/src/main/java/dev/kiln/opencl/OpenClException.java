package dev.kiln.opencl;

import dev.kiln.KilnException;
import org.jocl.CL;

/**
 * An OpenCL call that did not return {@code CL_SUCCESS}: the message names the call, the status
 * by name and number, and what it was doing; a failed program build carries the build log.
 */
public final class OpenClException extends KilnException {
    private final String call;
    private final int status;

    OpenClException(String call, int status, String detail) {
        super(call + " failed with " + statusName(status) + " (" + status + ")"
                + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.call = call;
        this.status = status;
    }

    /** The OpenCL function that failed, e.g. {@code clBuildProgram}. */
    public String call() {
        return call;
    }

    /** The status it returned, e.g. -11 for {@code CL_BUILD_PROGRAM_FAILURE}. */
    public int status() {
        return status;
    }

    /** Throws unless {@code status} is {@code CL_SUCCESS}. */
    static void check(int status, String call) {
        check(status, call, null);
    }

    static void check(int status, String call, String detail) {
        if (status != CL.CL_SUCCESS) {
            throw new OpenClException(call, status, detail);
        }
    }

    /** The status's constant name, e.g. {@code CL_OUT_OF_RESOURCES}. */
    static String statusName(int status) {
        String name = CL.stringFor_errorCode(status);
        return name == null || name.startsWith("INVALID error code") ? "an unknown status" : name;
    }
}
