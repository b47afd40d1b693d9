package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * 2-D average pooling, NCHW. With {@code countIncludePad} the divisor counts padded positions
 * (but never positions past the padding that ceil mode adds), otherwise only real ones.
 */
public record AveragePool(Window window, boolean ceilMode, boolean countIncludePad) implements Op {

    @Override
    public String type() {
        return "AveragePool";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        require(x.rank() == 4, "input must be NCHW (rank 4), got " + x);
        window.resolve(x).requirePadsSmallerThanKernel();
        // The kernels average contiguous windows; ONNX's dilated form (opset 19) is not built.
        require(window.dilationH() == 1 && window.dilationW() == 1, "dilations are not supported, got "
                + window.dilationH() + "x" + window.dilationW());
        return List.of(window.outputShape(x, x.dim(1), ceilMode));
    }
}
