package dev.kiln.models.onnx;

import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;

/**
 * What an ONNX value is to the importer. Float data flows through the Kiln graph; constants are
 * held back until a node reads them (as weights they become initializers, as parameters they
 * become attributes of a Kiln op); small integer tensors, including shapes computed from a
 * symbolic batch, are evaluated during import and never reach the graph.
 */
sealed interface ImportedValue {

    /** Float32 data in the Kiln graph under {@code name}: a graph input or a node's output. */
    record Data(String name) implements ImportedValue {
    }

    /** An initializer or a Constant node's value, not read yet. */
    record Constant(TensorData data) implements ImportedValue {
    }

    /** An integer tensor known at import time, some of whose elements may be symbolic dims. */
    record Ints(IntTensor value) implements ImportedValue {
    }

    /** A graph input of a type Kiln does not compute in. */
    record TypedInput(DataType type) implements ImportedValue {
    }

    /** The output of a node that could not be imported; inspection continues past it. */
    record Unavailable(String producer) implements ImportedValue {
    }
}
