package dev.kiln.onednn;

import dev.kiln.spi.BoundNode;

/**
 * The {@code onednn-squeeze-excitation-kiln} form: a squeeze-excitation whose excitation (its two
 * one-pixel convolutions and their activations) is one call of Kiln's kernel
 * ({@link NativeKernels#squeezeExcitation}), in place of two oneDNN primitives of mostly call
 * overhead; the squeeze and the gate as {@link SqueezeExcitationKernel}'s.
 */
final class KilnExcitationKernel extends SqueezeExcitationKernel {

    KilnExcitationKernel(BoundNode node) {
        super(node, true);
    }

    /**
     * Null when Kiln's excitation runs the node: what oneDNN's form needs, the kernel loaded, few enough reduced
     * channels.
     */
    static String unsupportedReason(BoundNode n) {
        String reason = SqueezeExcitationKernel.unsupportedReason(n);
        if (reason != null) {
            return reason;
        }
        OneDnnRuntime runtime = OneDnnRuntime.get().runtime();
        if (runtime == null || runtime.kernelsFor(NativeKernels.Kernel.SQUEEZE_EXCITATION) == null) {
            return "Kiln's squeeze-excitation kernel is not loaded";
        }
        return n.inputShape(1).dim(0) <= NativeKernels.MAX_CHANNELS ? null
                : "more than " + NativeKernels.MAX_CHANNELS + " reduced channels";
    }

}
