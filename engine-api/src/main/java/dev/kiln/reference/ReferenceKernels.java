package dev.kiln.reference;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.Lrn;
import dev.kiln.graph.ops.MatMul;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.graph.ops.Transpose;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;

import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The reference backend's own kernels, one class per op kind in this package, registered as the
 * first provider for the backend (a {@code META-INF/services/dev.kiln.spi.KernelProvider} line).
 * The two that parallelise (convolution, GEMM) split their work over the engine's host threads.
 */
public final class ReferenceKernels implements KernelProvider {
    public static final String PROVIDER = "reference";

    /** The plain loops of one op: {@code execute(node, inputs, outputs, threads)}. */
    @FunctionalInterface
    interface Loops {
        void execute(BoundNode node, float[][] inputs, float[][] outputs, HostThreads threads);
    }

    /** Loops that need no threads. */
    @FunctionalInterface
    interface SerialLoops {
        void execute(BoundNode node, float[][] inputs, float[][] outputs);
    }

    private static Loops serial(SerialLoops loops) {
        return (node, inputs, outputs, threads) -> loops.execute(node, inputs, outputs);
    }

    /** Whether input 0 may be overwritten: elementwise ops (and shape-only copies) read each element before writing it. */
    private static final ToIntFunction<BoundNode> FIRST_INPUT = n -> 0;
    private static final ToIntFunction<BoundNode> NOT_IN_PLACE = n -> -1;
    private static final ToIntFunction<BoundNode> SAME_SHAPE_OPERAND = n -> {
        for (int i = 0; i < n.inputShapes().size(); i++) {
            if (n.inputShape(i) != null && n.inputShape(i).equals(n.outputShape())) {
                return i;
            }
        }
        return -1;
    };

    private static final List<KernelFactory<?>> KERNELS = List.of(
            kernel("conv", Conv.class, ConvKernel::execute, NOT_IN_PLACE),
            kernel("batch-norm", BatchNormalization.class, serial(BatchNormKernel::execute), FIRST_INPUT),
            kernel("activation", Activation.class, serial(ActivationKernel::execute), FIRST_INPUT),
            kernel("binary", Binary.class, serial(BinaryKernel::execute), SAME_SHAPE_OPERAND),
            kernel("concat", Concat.class, serial(ConcatKernel::execute), NOT_IN_PLACE),
            kernel("max-pool", MaxPool.class, serial(MaxPoolKernel::execute), NOT_IN_PLACE),
            kernel("average-pool", AveragePool.class, serial(AveragePoolKernel::execute), NOT_IN_PLACE),
            kernel("global-pool", GlobalPool.class, serial(GlobalPoolKernel::execute), NOT_IN_PLACE),
            kernel("gemm", Gemm.class, GemmKernel::execute, NOT_IN_PLACE),
            kernel("matmul", MatMul.class, serial(MatMulKernel::execute), NOT_IN_PLACE),
            kernel("flatten", Flatten.class, serial(CopyKernel::execute), FIRST_INPUT),
            kernel("reshape", Reshape.class, serial(CopyKernel::execute), FIRST_INPUT),
            kernel("passthrough", Passthrough.class, serial(CopyKernel::execute), FIRST_INPUT),
            kernel("softmax", Softmax.class, serial(SoftmaxKernel::execute), NOT_IN_PLACE),
            kernel("lrn", Lrn.class, serial(LrnKernel::execute), NOT_IN_PLACE),
            kernel("squeeze-excitation", SqueezeExcitation.class, serial(SqueezeExcitationKernel::execute), NOT_IN_PLACE),
            kernel("pad", Pad.class, serial(PadKernel::execute), NOT_IN_PLACE),
            kernel("transpose", Transpose.class, serial(TransposeKernel::execute), NOT_IN_PLACE),
            providedOps());

    @Override
    public String name() {
        return PROVIDER;
    }

    @Override
    public String backend() {
        return ReferenceBackend.ID;
    }

    @Override
    public int contractVersion() {
        return ReferenceKernel.CONTRACT_VERSION;
    }

    @Override
    public List<KernelFactory<?>> kernels() {
        return KERNELS;
    }

    /** An op from an {@link dev.kiln.spi.OpProvider}: the provider's own reference kernel, where it has one. */
    private static KernelFactory<ReferenceKernel> providedOps() {
        return KernelFactory.of(ReferenceKernel.class, "provided-op",
                node -> !(node.op() instanceof ProvidedOp p) ? KernelSupport.no("not a provided op")
                        : p.hasReferenceKernel() ? KernelSupport.yes() : KernelSupport.no(noReferenceKernel(p)),
                (node, context) -> {
                    ProvidedOp p = (ProvidedOp) node.op();
                    ReferenceKernel k = p.provider().referenceKernel(node);
                    if (k == null) {
                        throw new IllegalStateException("the provider of " + p.type()
                                + " says it has a reference kernel but gave none");
                    }
                    return k;
                });
    }

    /** Why the reference backend cannot run a provided op: what names the op and its origin in the compile's error. */
    static String noReferenceKernel(ProvidedOp p) {
        return "op " + p.type() + " has no reference kernel"
                + (p.provider() instanceof dev.kiln.graph.ops.OpaqueOp
                ? ": no op provider knows it; it was imported as an opaque node from its declared output shapes,"
                + " so only a backend that claims it can run it"
                : " (its provider " + p.provider().getClass().getName() + " gives none)");
    }

    private static KernelFactory<ReferenceKernel> kernel(String name, Class<? extends Op> op, Loops loops,
                                                         ToIntFunction<BoundNode> inPlace) {
        return KernelFactory.of(ReferenceKernel.class, name,
                node -> op.isInstance(node.op()) ? KernelSupport.yes() : KernelSupport.no("not a " + op.getSimpleName()),
                (node, context) -> {
                    int overwritable = inPlace.applyAsInt(node);
                    HostThreads threads = context.threads();
                    return new ReferenceKernel() {
                        @Override
                        public void execute(float[][] inputs, float[][] outputs) {
                            loops.execute(node, inputs, outputs, threads);
                        }

                        @Override
                        public int inPlaceInput() {
                            return overwritable;
                        }
                    };
                });
    }
}
