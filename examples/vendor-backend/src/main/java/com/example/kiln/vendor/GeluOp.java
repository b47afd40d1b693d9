package com.example.kiln.vendor;

import dev.kiln.Shape;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.OpProvider;

import java.util.List;

/**
 * An op Kiln does not have, added by this plugin: {@code com.example.GELU}, the Gaussian error
 * linear unit, with ONNX's attribute {@code approximate}: {@code none} (x Phi(x), with erf) or
 * {@code tanh} (the default here, the tanh approximation). Registered by the
 * {@code META-INF/services/dev.kiln.spi.OpProvider} line, so that Kiln's ONNX importer turns such
 * a node into a {@link ProvidedOp}; {@link ExampleBackend} runs it, and the reference backend runs
 * it with {@link #referenceKernel}, the oracle the backend's kernel is checked against.
 */
public final class GeluOp implements OpProvider {
    public static final String DOMAIN = "com.example";
    public static final String NAME = "GELU";

    @Override
    public String domain() {
        return DOMAIN;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The node's {@code approximate}, checked, with the default filled in. */
    @Override
    public OpAttributes importAttributes(OpAttributes declared) {
        String approximate = declared.getString("approximate", "tanh");
        if (!approximate.equals("tanh") && !approximate.equals("none")) {
            throw new IllegalArgumentException("attribute 'approximate' must be none or tanh, got '" + approximate + "'");
        }
        return OpAttributes.empty().with("approximate", approximate);
    }

    @Override
    public List<Shape> inferShapes(List<Shape> inputs, OpAttributes attributes) {
        return List.of(inputs.getFirst());
    }

    @Override
    public ReferenceKernel referenceKernel(BoundNode node) {
        boolean tanh = usesTanh((ProvidedOp) node.op());
        int count = node.outputShape().elementCountInt();
        return (in, out) -> {
            for (int i = 0; i < count; i++) {
                out[0][i] = (float) gelu(in[0][i], tanh);
            }
        };
    }

    static boolean usesTanh(ProvidedOp op) {
        return op.attributes().getString("approximate", "tanh").equals("tanh");
    }

    /** The definition, in double. */
    public static double gelu(double x, boolean tanh) {
        if (tanh) {
            return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        }
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * erf from the complementary error function's Chebyshev fit (Numerical Recipes' erfcc):
     * fractional error below 1.2e-7 everywhere, past float's precision. The JDK has no erf.
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
