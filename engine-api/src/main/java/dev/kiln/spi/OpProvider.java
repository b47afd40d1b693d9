package dev.kiln.spi;

import dev.kiln.Shape;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.reference.ReferenceKernel;

import java.util.List;

/**
 * An op Kiln does not have, added by a plugin: found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/dev.kiln.spi.OpProvider} line, or {@code provides} on the module path)
 * on the class path and in the plugin folder ({@code --plugins}, {@code KILN_PLUGINS}), as
 * backends are. It gives the op's ONNX identity (domain and op type), its arity, its shape rule
 * and its reference kernel; a node of it is a {@link dev.kiln.graph.ops.ProvidedOp} carrying this
 * provider and the node's attributes. Kiln's optimizer leaves such a node alone; the reference
 * backend runs it with {@link #referenceKernel}; any other backend runs it only if its
 * {@code supports} claims it (by {@link #domain()} and {@link #name()}).
 *
 * <p>Implementations must be stateless (or immutable) and cheap to construct.
 */
public interface OpProvider {

    /** The ONNX domain of the op, e.g. {@code com.example}; empty for the default ai.onnx domain. */
    String domain();

    /** The ONNX op type, e.g. {@code GELU}. */
    String name();

    /** Inputs every node of the op must have. */
    default int minInputs() {
        return 1;
    }

    /** Inputs a node may have, optional ones included. */
    default int maxInputs() {
        return minInputs();
    }

    /** Outputs a node of the op computes. */
    default int outputCount() {
        return 1;
    }

    /**
     * The op's attributes from a node of a model file (ONNX: the node's attributes, in Kiln's
     * types): checked, with defaults filled in, as the node will carry them. The default keeps them
     * as they are.
     *
     * @throws IllegalArgumentException naming the attribute that is wrong; the importer names the node
     */
    default OpAttributes importAttributes(OpAttributes declared) {
        return declared;
    }

    /**
     * Output shapes for concrete input shapes (an absent optional input is null).
     *
     * @throws IllegalArgumentException naming what does not fit; the caller names the node
     */
    List<Shape> inferShapes(List<Shape> inputs, OpAttributes attributes);

    /** Multiply-accumulate operations for these shapes (cost reports); zero by default. */
    default long macs(List<Shape> inputs, List<Shape> outputs, OpAttributes attributes) {
        return 0;
    }

    /**
     * Whether {@link #referenceKernel} gives a kernel. Without one, the reference backend cannot
     * run the op, so a model using it runs only where a backend claims it, and {@code kiln verify}
     * marks its nodes not verifiable.
     */
    default boolean hasReferenceKernel() {
        return true;
    }

    /**
     * The op's plain kernel on the reference backend for this node (shapes in {@code node}, the
     * attributes in its {@link dev.kiln.graph.ops.ProvidedOp}): row-major float arrays, written to
     * be checked by reading, the oracle a backend's kernel is compared with. Null when
     * {@link #hasReferenceKernel()} is false.
     */
    ReferenceKernel referenceKernel(BoundNode node);
}
