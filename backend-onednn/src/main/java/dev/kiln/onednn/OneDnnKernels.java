package dev.kiln.onednn;

import dev.kiln.Shape;
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
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelFactory;
import dev.kiln.spi.KernelProvider;
import dev.kiln.spi.KernelSupport;

import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The onednn backend's own kernels, registered like anyone else's (a
 * {@code META-INF/services/dev.kiln.spi.KernelProvider} line), one class per form. Each kernel
 * class answers for itself which nodes it runs ({@code unsupportedReason}); a special form (Kiln's
 * Winograd, swish and excitation kernels) bids above the general form of its op where it runs the
 * node, as the lowering chose it before these were kernels.
 */
public final class OneDnnKernels implements KernelProvider {
    public static final String PROVIDER = OneDnnBackend.ID;
    /** A special form's bid: above the general form of its op. */
    private static final int SPECIAL = KernelSupport.DEFAULT_PRIORITY + 10;

    /** The general form of each op first: its refusal is the backend's reason for a node no form runs. */
    private static final List<KernelFactory<?>> KERNELS = List.of(
            kernel("onednn-convolution", ConvolutionKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ConvolutionKernel(n)),
            kernel("onednn-winograd-convolution", WinogradConvolutionKernel::unsupportedReason, SPECIAL,
                    (n, c) -> new WinogradConvolutionKernel(n)),
            kernel("onednn-convolution-kiln-swish", KilnSwishConvolutionKernel::unsupportedReason, SPECIAL,
                    (n, c) -> new KilnSwishConvolutionKernel(n)),
            kernel("onednn-inner-product", InnerProductKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new InnerProductKernel(n)),
            kernel("onednn-pooling", PoolingKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new PoolingKernel(n)),
            kernel("onednn-global-pooling", GlobalPoolingKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new GlobalPoolingKernel(n)),
            kernel("onednn-squeeze-excitation", SqueezeExcitationKernel::unsupportedReason,
                    KernelSupport.DEFAULT_PRIORITY, (n, c) -> new SqueezeExcitationKernel(n)),
            kernel("onednn-squeeze-excitation-kiln", KilnExcitationKernel::unsupportedReason, SPECIAL,
                    (n, c) -> new KilnExcitationKernel(n)),
            kernel("onednn-binary", BinaryKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new BinaryKernel(n)),
            kernel("onednn-eltwise", EltwiseKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new EltwiseKernel(n)),
            kernel("onednn-concat", ConcatKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ConcatKernel(n)),
            kernel("onednn-softmax", SoftmaxKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new SoftmaxKernel(n)),
            kernel("onednn-lrn", LrnKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new LrnKernel(n)),
            kernel("onednn-batch-normalization", BatchNormKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new BatchNormKernel(n)),
            kernel("onednn-reshape", ReshapeKernel::unsupportedReason, KernelSupport.DEFAULT_PRIORITY,
                    (n, c) -> new ReshapeKernel(n)));

    /** The general form of each op, for {@link #refusal}: which ops it is for, and its answer. */
    private record GeneralForm(Predicate<Op> isFor, Function<BoundNode, String> unsupportedReason) {
    }

    private static final List<GeneralForm> GENERAL_FORMS = List.of(
            new GeneralForm(op -> op instanceof Conv, ConvolutionKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Gemm, InnerProductKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof MaxPool || op instanceof AveragePool, PoolingKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof GlobalPool, GlobalPoolingKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof SqueezeExcitation, SqueezeExcitationKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Binary, BinaryKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Activation, EltwiseKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Concat, ConcatKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Softmax, SoftmaxKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Lrn, LrnKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof BatchNormalization, BatchNormKernel::unsupportedReason),
            new GeneralForm(op -> op instanceof Flatten || op instanceof Reshape, ReshapeKernel::unsupportedReason));

    @Override
    public String name() {
        return PROVIDER;
    }

    @Override
    public String backend() {
        return OneDnnBackend.ID;
    }

    @Override
    public int contractVersion() {
        return OneDnnKernel.CONTRACT_VERSION;
    }

    @Override
    public List<KernelFactory<?>> kernels() {
        return KERNELS;
    }

    /**
     * Why no kernel runs a node, for {@code explain}: the refusal of the general form of its op
     * (a special form refuses what its general form refuses, and more), or that oneDNN has no
     * primitive here for the op.
     */
    static String refusal(BoundNode n) {
        for (GeneralForm form : GENERAL_FORMS) {
            if (form.isFor().test(n.op())) {
                String reason = form.unsupportedReason().apply(n);
                return reason != null ? reason : "no kernel of a provider runs it";
            }
        }
        return n.op().type() + " has no oneDNN primitive here";
    }

    /**
     * Null when oneDNN takes the node's values, else why not: oneDNN takes at most {@link Dnnl#MAX_NDIMS}
     * dimensions.
     */
    static String rankReason(BoundNode n) {
        for (Shape s : n.inputShapes()) {
            if (s != null && s.rank() > Dnnl.MAX_NDIMS) {
                return "oneDNN takes at most " + Dnnl.MAX_NDIMS + " dimensions, got " + s;
            }
        }
        return null;
    }

    /** Null when oneDNN has a post-op for every activation of the epilogue, else why not. */
    static String postOpsReason(List<PostOp> ops) {
        for (PostOp op : ops) {
            if (op instanceof PostOp.Activate a && EltwiseKernel.algorithm(a.function()) == null) {
                return "post-op " + a.function().kind() + " has no oneDNN algorithm";
            }
        }
        return null;
    }

    private static KernelFactory<OneDnnKernel> kernel(String name, Function<BoundNode, String> unsupportedReason,
                                                      int priority,
                                                      BiFunction<BoundNode, CompileContext, OneDnnKernel> create) {
        return KernelFactory.of(OneDnnKernel.class, name, node -> {
            String reason = unsupportedReason.apply(node);
            return reason == null ? KernelSupport.withPriority(priority) : KernelSupport.no(reason);
        }, create);
    }
}
