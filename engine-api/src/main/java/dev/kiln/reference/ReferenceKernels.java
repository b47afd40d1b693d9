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
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Softmax;
import dev.kiln.graph.ops.SqueezeExcitation;

/** The reference kernel for each op: one class per op kind, in this package. */
final class ReferenceKernels {
    private ReferenceKernels() {
    }

    static ReferenceKernel forOp(Op op) {
        return switch (op) {
            case Conv c -> ConvKernel::execute;
            case BatchNormalization b -> BatchNormKernel::execute;
            case Activation a -> ActivationKernel::execute;
            case Binary b -> BinaryKernel::execute;
            case Concat c -> ConcatKernel::execute;
            case MaxPool p -> MaxPoolKernel::execute;
            case AveragePool p -> AveragePoolKernel::execute;
            case GlobalPool p -> GlobalPoolKernel::execute;
            case Gemm g -> GemmKernel::execute;
            case MatMul m -> MatMulKernel::execute;
            case Flatten f -> CopyKernel::execute;
            case Reshape r -> CopyKernel::execute;
            case Passthrough p -> CopyKernel::execute;
            case Softmax s -> SoftmaxKernel::execute;
            case Lrn l -> LrnKernel::execute;
            case SqueezeExcitation s -> SqueezeExcitationKernel::execute;
            case Pad p -> PadKernel::execute;
        };
    }
}
