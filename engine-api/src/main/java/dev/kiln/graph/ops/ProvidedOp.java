package dev.kiln.graph.ops;

import dev.kiln.Shape;
import dev.kiln.spi.OpProvider;

import java.util.List;

/**
 * A node's op that Kiln's own ops do not include: one an {@link OpProvider} plugin adds (its shape
 * rule and reference kernel come from the provider), or one no provider knows, imported with the
 * output shapes its model file declares ({@link OpaqueOp}). Kiln's passes leave it alone; a backend
 * runs it only if it claims it by {@link #domain()} and {@link #name()}.
 *
 * @param provider   what knows the op: its arity, shape rule and reference kernel
 * @param attributes the node's attributes, as the provider accepted them
 */
public record ProvidedOp(OpProvider provider, OpAttributes attributes) implements Op {

    public ProvidedOp {
        if (provider == null || attributes == null) {
            throw new IllegalArgumentException("a provided op needs its provider and attributes");
        }
    }

    public String domain() {
        return provider.domain();
    }

    public String name() {
        return provider.name();
    }

    /** {@code domain.name} ({@code com.example.GELU}), or the name alone in the default ONNX domain. */
    @Override
    public String type() {
        return qualifiedName(domain(), name());
    }

    /** How messages and reports name an op of a domain: {@code com.example.GELU}, or {@code GELU} in ai.onnx. */
    public static String qualifiedName(String domain, String name) {
        return domain.isEmpty() ? name : domain + "." + name;
    }

    /** Whether the reference backend can run it, i.e. whether {@code kiln verify} can check it. */
    public boolean hasReferenceKernel() {
        return provider.hasReferenceKernel();
    }

    @Override
    public int minInputs() {
        return provider.minInputs();
    }

    @Override
    public int maxInputs() {
        return provider.maxInputs();
    }

    @Override
    public int outputCount() {
        return provider.outputCount();
    }

    @Override
    public List<Shape> inferShapes(List<Shape> inputs) {
        List<Shape> out = provider.inferShapes(inputs, attributes);
        Op.require(out != null && out.size() == outputCount(), "the shape rule of " + type() + " gave "
                + (out == null ? "nothing" : out.size() + " shapes") + " for " + outputCount() + " outputs");
        return List.copyOf(out);
    }

    @Override
    public long macs(List<Shape> inputs, List<Shape> outputs) {
        return provider.macs(inputs, outputs, attributes);
    }

    /**
     * Same op, same attributes. Providers are stateless, so two instances of one provider class
     * (two imports of a file each discover their own) are the same op; an {@link OpaqueOp} carries
     * its declared shapes and compares by them.
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof ProvidedOp p && p.attributes.equals(attributes)
                && (p.provider.equals(provider) || !(provider instanceof OpaqueOp)
                && p.provider.getClass() == provider.getClass() && p.domain().equals(domain())
                && p.name().equals(name()));
    }

    @Override
    public int hashCode() {
        int identity = provider instanceof OpaqueOp ? provider.hashCode() : provider.getClass().getName().hashCode();
        return (identity * 31 + type().hashCode()) * 31 + attributes.hashCode();
    }

    /** Stable text (no identity hash codes): selection keys hash the ops' text. */
    @Override
    public String toString() {
        return "ProvidedOp[" + type() + (provider instanceof OpaqueOp o ? " opaque, outputs " + o.outputs() : "")
                + ", " + attributes + "]";
    }
}
