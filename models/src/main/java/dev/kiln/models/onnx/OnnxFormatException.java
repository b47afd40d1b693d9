package dev.kiln.models.onnx;

import dev.kiln.KilnException;

/**
 * An ONNX file Kiln cannot load: not a protobuf, truncated, inconsistent (an initializer whose
 * data does not match its dims, a dangling input, a cycle), unsafe (external data outside the
 * model's folder), or using an op or form Kiln does not run. The message names the file and the
 * node or tensor at fault.
 */
public class OnnxFormatException extends KilnException {
    public OnnxFormatException(String message) {
        super(message);
    }

    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
