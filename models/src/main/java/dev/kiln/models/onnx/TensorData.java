package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * One TensorProto (an initializer, a Constant's value, a test input): its element type and
 * dims, checked against the data it actually carries before anything is allocated, so that a
 * tiny file declaring a huge tensor is refused instead of exhausting memory. The data may be in
 * {@code raw_data} (little-endian), in the typed field for its type, or in an external file.
 */
final class TensorData {
    /** Integer and float constants read onto the heap (shapes, axes, scalars) are small; this bounds them. */
    private static final long MAX_HEAP_CONSTANT = 1 << 20;

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat NATIVE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final TensorProto proto;
    private final String what;
    private final DataType type;
    private final Shape shape;
    private final long count;
    private final ExternalData.Location external; // null unless the data is in an external file

    private TensorData(TensorProto proto, String what, DataType type, Shape shape, long count,
                       ExternalData.Location external) {
        this.proto = proto;
        this.what = what;
        this.type = type;
        this.shape = shape;
        this.count = count;
        this.external = external;
    }

    /**
     * Reads a tensor's header and checks its data size.
     *
     * @param what   how messages name the tensor, e.g. "model.onnx: initializer 'w'"
     * @param folder where external data files may be (null: external data is refused)
     */
    static TensorData of(TensorProto proto, String what, Path folder) {
        DataType type = DataType.forNumber(proto.getDataType());
        if (type == null || type == DataType.UNDEFINED) {
            throw new OnnxFormatException(what + " has unknown element type " + proto.getDataType());
        }
        if (proto.hasSegment()) {
            throw new OnnxFormatException(what + " is a segment of a larger tensor, which Kiln does not read");
        }
        int[] dims = new int[proto.getDimsCount()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = proto.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new OnnxFormatException(what + " has dimension " + d + " at axis " + i + " of " + proto.getDimsList());
            }
            dims[i] = (int) d;
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new OnnxFormatException(what + " declares dims " + proto.getDimsList()
                        + ", more elements than any file can hold");
            }
        }
        Shape shape = Shape.of(dims);
        ExternalData.Location external = null;
        if (proto.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            int size = byteSize(type);
            if (size <= 0) {
                throw new OnnxFormatException(what + " keeps " + type + " data externally, which Kiln does not read");
            }
            if (folder == null) {
                throw new OnnxFormatException(what + " refers to external data, which is not allowed here");
            }
            external = ExternalData.locate(proto, folder, what, multiply(count, size, what));
        } else {
            checkEmbeddedSize(proto, what, type, count);
        }
        return new TensorData(proto, what, type, shape, count, external);
    }

    private static void checkEmbeddedSize(TensorProto proto, String what, DataType type, long count) {
        if (proto.hasRawData()) {
            int size = byteSize(type);
            if (size <= 0) {
                throw new OnnxFormatException(what + " holds " + type + " in raw_data, which Kiln does not read");
            }
            long needed = multiply(count, size, what);
            if (proto.getRawData().size() != needed) {
                throw new OnnxFormatException(what + " declares dims " + proto.getDimsList() + " of " + type + " ("
                        + needed + " bytes) but its raw_data holds " + proto.getRawData().size() + " bytes");
            }
            return;
        }
        long present = typedCount(proto, type);
        if (present != count) {
            throw new OnnxFormatException(what + " declares dims " + proto.getDimsList() + " (" + count + " elements of "
                    + type + ") but holds " + present + " values" + (present == 0 ? " (no data)" : ""));
        }
    }

    /** Values in the typed field ONNX uses for this element type. */
    private static long typedCount(TensorProto proto, DataType type) {
        return switch (type) {
            case FLOAT, COMPLEX64 -> proto.getFloatDataCount();
            case DOUBLE, COMPLEX128 -> proto.getDoubleDataCount();
            case INT64 -> proto.getInt64DataCount();
            case UINT32, UINT64 -> proto.getUint64DataCount();
            case STRING -> proto.getStringDataCount();
            default -> proto.getInt32DataCount(); // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16, BFLOAT16
        };
    }

    /** Bytes per element in raw or external data; 0 for strings, which have no fixed size. */
    static int byteSize(DataType type) {
        return switch (type) {
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16, FLOAT16, BFLOAT16 -> 2;
            case FLOAT, INT32, UINT32 -> 4;
            case INT64, UINT64, DOUBLE, COMPLEX64 -> 8;
            case COMPLEX128 -> 16;
            default -> 0;
        };
    }

    private static long multiply(long count, int size, String what) {
        try {
            return Math.multiplyExact(count, size);
        } catch (ArithmeticException e) {
            throw new OnnxFormatException(what + " declares more bytes than any file can hold");
        }
    }

    DataType type() {
        return type;
    }

    Shape shape() {
        return shape;
    }

    long count() {
        return count;
    }

    /** A new off-heap tensor holding the data; float32 only. */
    Tensor toTensor() {
        requireType(DataType.FLOAT);
        Tensor tensor = Tensor.allocate(shape);
        try {
            if (count == 0) {
                return tensor;
            }
            MemorySegment target = tensor.segment();
            if (external != null || proto.hasRawData()) {
                withBytes(bytes -> {
                    MemorySegment.copy(bytes, LE_FLOAT, 0, target, NATIVE_FLOAT, 0, count);
                    return null;
                });
            } else {
                for (int i = 0; i < count; i++) {
                    target.setAtIndex(NATIVE_FLOAT, i, proto.getFloatData(i));
                }
            }
            return tensor;
        } catch (RuntimeException e) {
            tensor.close();
            throw e;
        }
    }

    /** The values of a small float32 tensor (a scalar parameter). */
    float[] floats() {
        requireType(DataType.FLOAT);
        requireSmall();
        float[] values = new float[(int) count];
        if (external != null || proto.hasRawData()) {
            withBytes(bytes -> {
                MemorySegment.copy(bytes, LE_FLOAT, 0, values, 0, values.length);
                return null;
            });
        } else {
            for (int i = 0; i < values.length; i++) {
                values[i] = proto.getFloatData(i);
            }
        }
        return values;
    }

    /** The values of a small integer tensor (a shape, axes, indices, pads), widened to long. */
    long[] longs() {
        if (!isInteger(type)) {
            throw new OnnxFormatException(what + " has type " + type + " where integers are expected");
        }
        requireSmall();
        long[] values = new long[(int) count];
        if (external != null || proto.hasRawData()) {
            int size = byteSize(type);
            withBytes(bytes -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = readInteger(bytes, (long) i * size);
                }
                return null;
            });
        } else {
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (type) {
                    case INT64 -> proto.getInt64Data(i);
                    case UINT32, UINT64 -> proto.getUint64Data(i);
                    default -> proto.getInt32Data(i);
                };
            }
        }
        return values;
    }

    private long readInteger(MemorySegment bytes, long offset) {
        ByteOrder le = ByteOrder.LITTLE_ENDIAN;
        return switch (type) {
            case INT64, UINT64 -> bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(le), offset);
            case INT32 -> bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), offset);
            case UINT32 -> Integer.toUnsignedLong(bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(le), offset));
            case INT16 -> bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), offset);
            case UINT16 -> Short.toUnsignedLong(bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(le), offset));
            case INT8 -> bytes.get(ValueLayout.JAVA_BYTE, offset);
            default -> Byte.toUnsignedLong(bytes.get(ValueLayout.JAVA_BYTE, offset)); // UINT8, BOOL
        };
    }

    static boolean isInteger(DataType type) {
        return switch (type) {
            case INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8, BOOL -> true;
            default -> false;
        };
    }

    private void requireType(DataType expected) {
        if (type != expected) {
            throw new OnnxFormatException(what + " has type " + type + "; Kiln computes in " + expected
                    + " only");
        }
    }

    private void requireSmall() {
        if (count > MAX_HEAP_CONSTANT) {
            throw new OnnxFormatException(what + " has " + count + " elements, too many for a parameter constant");
        }
    }

    /** Runs {@code use} on the raw bytes: a view of raw_data, or the mapped external file. */
    private <R> R withBytes(Function<MemorySegment, R> use) {
        if (external != null) {
            return ExternalData.withMapping(external, what, use);
        }
        return use.apply(MemorySegment.ofBuffer(proto.getRawData().asReadOnlyByteBuffer()));
    }
}
