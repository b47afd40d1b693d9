package dev.kiln.models.onnx;

/**
 * A node, value or type Kiln cannot import as written. {@link #entry()} is the short form that
 * {@link OnnxSummary#unsupportedOps()} lists ("Elu", "MaxPool (3-D)", "INT64 data"); the message
 * explains it. Loading turns it into an {@link OnnxFormatException} naming the file and node.
 */
final class UnsupportedNodeException extends RuntimeException {
    private final String entry;

    UnsupportedNodeException(String entry, String message) {
        super(message);
        this.entry = entry;
    }

    String entry() {
        return entry;
    }
}
