package dev.kiln.onednn;

import dev.kiln.Shape;
import dev.kiln.spi.BoundNode;

import java.lang.foreign.MemorySegment;

/**
 * The swish-with-means form: a squeeze-excitation's mean over the plane added up by Kiln's swish
 * that made its input ({@link NativeKernels#swishWithChannelMeans}), so that oneDNN's pooling
 * does not read the image again.
 */
final class SwishWithMeans {
    private static final MemorySegment NULL = MemorySegment.NULL;

    private SwishWithMeans() {
    }

    /**
     * The squeeze-excitation's mean over the plane, added up by Kiln's swish that made its input
     * (the last step, over one channels-last image): that step becomes the swish with channel
     * means, and oneDNN's pooling does not read the image again. -1 when it cannot (the last step
     * is another, even another of Kiln's: a Winograd convolution's output transform).
     */
    static int meansAddedUp(LoweringContext c, BoundNode n, int x) {
        Shape in = n.inputShape(0);
        if (c.program.steps.isEmpty() || x != c.swished || c.program.steps.getLast().output() != x || in.dim(0) != 1
                || in.dim(1) > NativeKernels.MAX_CHANNELS || !Layouts.tag(c.dnnl, c.program.md(x)).equals("acdb")) {
            return -1;
        }
        long channels = in.dim(1);
        long pixels = in.dim(2) * in.dim(3);
        int means = c.program.activation(c.layouts.strided(new long[]{1, channels, 1, 1}, new long[]{channels, 1,
                channels, channels}));
        Program.Step swish = c.program.steps.removeLast();
        NativeKernels kernels = c.runtime.kernelsFor(NativeKernels.Kernel.SWISH);
        c.program.steps.add(new Program.Step(swish.node(), swish.nodeIndex(), swish.threads(), NULL, new int[0],
                new int[]{swish.argValues()[0], x, means}, means, NULL, 0,
                buffers -> kernels.swishWithChannelMeans(buffers[x], pixels, channels, buffers[means])));
        c.program.note("mean over the plane added up by the swish of " + swish.node());
        return means;
    }
}
