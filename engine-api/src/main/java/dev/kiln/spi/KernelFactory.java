package dev.kiln.spi;

import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One operator kernel for one backend, described once and instantiated per node at compile
 * time (oneDNN's "describe, create once, execute many times"). {@code K} is the backend's own
 * kernel interface (e.g. {@code ReferenceKernel}); a vendor who ships a single faster kernel for
 * an existing backend implements this for that interface, and the backend picks it by priority.
 */
public interface KernelFactory<K> {

    /** The backend's kernel interface this factory creates. */
    Class<K> kernelType();

    /** A short name shown by {@code explain}, e.g. {@code "conv-direct"}. */
    String name();

    /**
     * Whether it runs this node (op, attributes, post-ops, shapes), and with what priority: the
     * supported kernel with the highest priority wins. A backend's own kernels use
     * {@link KernelSupport#DEFAULT_PRIORITY}.
     */
    KernelSupport supports(BoundNode node);

    /** Instantiates the kernel for one node: pack or upload weights (through the context's store), size scratch. */
    K create(BoundNode node, CompileContext context);

    /** A factory from its parts: the usual way to register a kernel, a vendor's or a backend's own. */
    static <K> KernelFactory<K> of(Class<K> kernelType, String name, Function<BoundNode, KernelSupport> supports,
                                   BiFunction<BoundNode, CompileContext, K> create) {
        return new KernelFactory<>() {
            @Override
            public Class<K> kernelType() {
                return kernelType;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public KernelSupport supports(BoundNode node) {
                return supports.apply(node);
            }

            @Override
            public K create(BoundNode node, CompileContext context) {
                return create.apply(node, context);
            }
        };
    }
}
