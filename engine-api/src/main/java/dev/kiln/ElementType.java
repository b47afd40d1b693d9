package dev.kiln;

/**
 * The type of a tensor's elements. Kiln computes in 32-bit floats only: every input, output,
 * weight and activation is {@link #FLOAT32} (an ONNX file with other types is refused when it is
 * loaded, naming the value). The enum is the place where other types would be added.
 */
public enum ElementType {
    /** IEEE 754 single precision, 4 bytes, native byte order off-heap. */
    FLOAT32(4);

    private final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
