package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.OpProvider;

import java.util.List;

/**
 * A test op from a custom domain: GELU with its approximation as a string attribute ({@code tanh}
 * or {@code sigmoid}, default {@code tanh}). Registered by the test class path's
 * {@code META-INF/services/dev.kiln.spi.OpProvider}.
 */
public final class TestGelu implements OpProvider {
    public static final String DOMAIN = "com.example.test";
    public static final String NAME = "GELU";

    @Override
    public String domain() {
        return DOMAIN;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public OpAttributes importAttributes(OpAttributes declared) {
        String approximate = declared.getString("approximate", "tanh");
        if (!approximate.equals("tanh") && !approximate.equals("sigmoid")) {
            throw new IllegalArgumentException("attribute 'approximate' must be tanh or sigmoid, got " + approximate);
        }
        return OpAttributes.empty().with("approximate", approximate);
    }

    @Override
    public List<Shape> inferShapes(List<Shape> inputs, OpAttributes attributes) {
        return List.of(inputs.getFirst());
    }

    @Override
    public ReferenceKernel referenceKernel(BoundNode node) {
        boolean tanh = ((ProvidedOp) node.op()).attributes().getString("approximate", "tanh").equals("tanh");
        int count = node.outputShape().elementCountInt();
        return (in, out) -> {
            for (int i = 0; i < count; i++) {
                out[0][i] = (float) gelu(in[0][i], tanh);
            }
        };
    }

    /** The formula, in double: what the tests compare with. */
    public static double gelu(double x, boolean tanh) {
        return tanh ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
                : x / (1 + Math.exp(-1.702 * x));
    }
}
