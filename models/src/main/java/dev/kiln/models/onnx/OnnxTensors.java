package dev.kiln.models.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.kiln.Tensor;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tensors stored as serialized ONNX TensorProtos ({@code .pb} files), the form the ONNX backend
 * test cases keep their inputs and expected outputs in.
 */
public final class OnnxTensors {
    private OnnxTensors() {
    }

    /**
     * Reads a float32 tensor from a TensorProto file; the caller closes it.
     *
     * @throws OnnxFormatException if the file is not a TensorProto, its data does not match its
     *                             dims, or its type is not float32
     */
    public static Tensor read(Path file) {
        TensorProto proto;
        try {
            proto = TensorProto.parseFrom(Files.readAllBytes(file));
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException(file + " is not a serialized ONNX TensorProto: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new OnnxFormatException("cannot read " + file + ": " + e, e);
        }
        // External data is refused: a stand-alone tensor file has no model folder to resolve it in.
        return TensorData.of(proto, file.toString(), null).toTensor();
    }

    /** The name a TensorProto file gives its tensor (the graph input or output it is for), or "". */
    public static String name(Path file) {
        try {
            return TensorProto.parseFrom(Files.readAllBytes(file)).getName();
        } catch (IOException e) {
            throw new OnnxFormatException("cannot read " + file + ": " + e, e);
        }
    }
}
