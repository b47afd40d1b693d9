package dev.kiln.onednn;

import dev.kiln.graph.ops.Conv;
import dev.kiln.spi.BoundNode;

/**
 * The {@code onednn-convolution-kiln-swish} form: a convolution whose epilogue ends with swish,
 * created without it and followed by Kiln's swish over its output in place
 * ({@link NativeKernels#swish}): oneDNN 3.13's swish post-op (an exp and a division per value) is
 * slower than a pass of Kiln's kernel once the output is large enough for the pass to run on every
 * thread. The result is a view of the convolution's output.
 */
final class KilnSwishConvolutionKernel extends ConvolutionKernel {

    KilnSwishConvolutionKernel(BoundNode node) {
        super(node, true);
    }

    /** Null when the swish is Kiln's: what the convolution needs, the kernel loaded, a swish last, a large output. */
    static String unsupportedReason(BoundNode n) {
        String reason = ConvolutionKernel.unsupportedReason(n);
        if (reason != null) {
            return reason;
        }
        OneDnnRuntime runtime = OneDnnRuntime.get().runtime();
        if (runtime == null) {
            return "oneDNN is not loaded";
        }
        return isSwishForKilnsKernel(runtime, ((Conv) n.op()).postOps(), n.outputShape()) ? null
                : "no swish last in the epilogue, Kiln's swish kernel not loaded, or an output too small for it";
    }
}
