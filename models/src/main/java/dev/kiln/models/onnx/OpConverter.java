package dev.kiln.models.onnx;

/** Converts one ONNX node into Kiln nodes, or into values known at import time. */
@FunctionalInterface
interface OpConverter {
    void convert(NodeContext node);
}
