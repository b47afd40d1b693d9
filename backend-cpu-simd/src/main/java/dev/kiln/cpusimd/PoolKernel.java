package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * MaxPool and AveragePool on NCHWc values: each output pixel of a channel block is the max or
 * mean of the window's input pixels, L channels per vector. Windows are clipped to the image
 * once per row and per column, so the loops over a window never test an element; padded
 * positions take no part in a max and count in a mean only with count_include_pad (and never
 * past the explicit padding, where ceil mode's extra positions lie), as the reference does.
 * Padding lanes hold zeros, and both the max and the mean of zeros are zero.
 */
public final class PoolKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final boolean max;
    private final int batch, blocks, height, width, outH, outW;
    private final int kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight;
    private final int dilationH, dilationW;
    private final boolean countIncludePad;

    public PoolKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Shape xs = node.inputShape(0), ys = node.outputShape();
        Window w;
        if (node.op() instanceof MaxPool p) {
            max = true;
            w = p.window().resolve(xs);
            countIncludePad = false;
        } else {
            AveragePool p = (AveragePool) node.op();
            max = false;
            w = p.window().resolve(xs);
            countIncludePad = p.countIncludePad();
        }
        batch = xs.dim(0);
        blocks = BlockedLayout.blocks(xs.dim(1));
        height = xs.dim(2);
        width = xs.dim(3);
        outH = ys.dim(2);
        outW = ys.dim(3);
        kernelH = w.kernelH();
        kernelW = w.kernelW();
        strideH = w.strideH();
        strideW = w.strideW();
        padTop = w.padTop();
        padLeft = w.padLeft();
        padBottom = w.padBottom();
        padRight = w.padRight();
        dilationH = w.dilationH();
        dilationW = w.dilationW();
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof MaxPool) && !(node.op() instanceof AveragePool)) {
            return "not a MaxPool or AveragePool";
        }
        return node.inputShape(0).rank() == 4 ? null : "input is not rank 4";
    }

    @Override
    public String algorithm() {
        return (max ? "max" : "average") + " pool " + kernelH + "x" + kernelW + " stride " + strideH + "x" + strideW
                + " on " + L + "-channel vectors, windows clipped per row and column";
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        int planes = batch * blocks;
        int bands = WorkSplit.bandsPerPlane(planes, outH, threads.parallelism());
        threads.parallelFor(planes * bands, task -> {
            int plane = task / bands, band = task % bands;
            poolRows(x, y, plane, WorkSplit.bandStart(band, bands, outH), WorkSplit.bandStart(band + 1, bands, outH));
        });
    }

    private void poolRows(float[] x, float[] y, int plane, int rowStart, int rowEnd) {
        int inPlane = plane * height * width * L;
        int outPlane = plane * outH * outW * L;
        for (int oy = rowStart; oy < rowEnd; oy++) {
            int top = oy * strideH - padTop;
            int kyFirst = top >= 0 ? 0 : Math.ceilDiv(-top, dilationH);
            int kyEnd = Math.min(kernelH, Math.floorDiv(height - 1 - top, dilationH) + 1);
            // The rows the divisor counts: with count_include_pad the window up to the end of the
            // explicit bottom padding (average pooling has no dilation).
            int rowsCounted = countIncludePad ? Math.min(top + kernelH, height + padBottom) - top : kyEnd - kyFirst;
            for (int ox = 0; ox < outW; ox++) {
                int left = ox * strideW - padLeft;
                int kxFirst = left >= 0 ? 0 : Math.ceilDiv(-left, dilationW);
                int kxEnd = Math.min(kernelW, Math.floorDiv(width - 1 - left, dilationW) + 1);
                FloatVector result;
                if (max) {
                    result = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
                    for (int ky = kyFirst; ky < kyEnd; ky++) {
                        int inRow = inPlane + ((top + ky * dilationH) * width + left) * L;
                        for (int kx = kxFirst; kx < kxEnd; kx++) {
                            result = result.max(FloatVector.fromArray(SPECIES, x, inRow + kx * dilationW * L));
                        }
                    }
                } else {
                    FloatVector sum = FloatVector.zero(SPECIES);
                    for (int ky = kyFirst; ky < kyEnd; ky++) {
                        int inRow = inPlane + ((top + ky) * width + left) * L;
                        for (int kx = kxFirst; kx < kxEnd; kx++) {
                            sum = sum.add(FloatVector.fromArray(SPECIES, x, inRow + kx * L));
                        }
                    }
                    int columnsCounted = countIncludePad
                            ? Math.min(left + kernelW, width + padRight) - left : kxEnd - kxFirst;
                    result = sum.div((float) (rowsCounted * columnsCounted));
                }
                result.intoArray(y, outPlane + (oy * outW + ox) * L);
            }
        }
    }
}
