package dev.kiln.models.onnx;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/** The ONNX op types Kiln imports, each with its converter, gathered from the op families. */
final class OnnxOps {
    private static final Map<String, OpConverter> CONVERTERS;

    static {
        Map<String, OpConverter> m = new HashMap<>();
        ConvolutionOps.register(m);
        ElementwiseOps.register(m);
        TensorOps.register(m);
        ShapeOps.register(m);
        CONVERTERS = Collections.unmodifiableMap(m);
    }

    private OnnxOps() {
    }

    /** Every ai.onnx op type Kiln imports. */
    static java.util.Set<String> opTypes() {
        return CONVERTERS.keySet();
    }

    /** The converter for an ai.onnx op type, or null when Kiln does not import it. */
    static OpConverter converter(String opType) {
        return CONVERTERS.get(opType);
    }
}
