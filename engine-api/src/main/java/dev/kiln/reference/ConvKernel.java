package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;



/**
 * Direct convolution: for each output plane, accumulate weight * shifted input row by row.
 * Output planes are independent, so they are computed in parallel on the engine's threads.
 */
final class ConvKernel {
    private ConvKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out, HostThreads threads) {
        Conv conv = (Conv) node.op();
        Shape xs = node.inputShape(0);
        Shape ws = node.inputShape(1);
        Shape ys = node.outputShape();
        Window w = conv.window().resolve(xs);
        int batch = xs.dim(0), channels = xs.dim(1), height = xs.dim(2), width = xs.dim(3);
        int outChannels = ys.dim(1), outH = ys.dim(2), outW = ys.dim(3);
        int groupIn = ws.dim(1), groupOut = outChannels / conv.groups();
        int kh = w.kernelH(), kw = w.kernelW();
        boolean pointwise = kh == 1 && kw == 1 && w.strideH() == 1 && w.strideW() == 1
                && w.padTop() + w.padLeft() + w.padBottom() + w.padRight() == 0;
        float[] x = in[0], weights = in[1], bias = in.length > 2 ? in[2] : null, y = out[0];

        threads.parallelFor(batch * outChannels, plane -> {
            int n = plane / outChannels, m = plane % outChannels;
            int firstChannel = (m / groupOut) * groupIn;
            int yBase = plane * outH * outW;
            java.util.Arrays.fill(y, yBase, yBase + outH * outW, bias == null ? 0f : bias[m]);
            for (int c = 0; c < groupIn; c++) {
                int xBase = (n * channels + firstChannel + c) * height * width;
                if (pointwise) {
                    // A 1x1 convolution with stride 1 and no padding is a product over channels:
                    // the whole input plane lines up with the whole output plane.
                    float weight = weights[m * groupIn + c];
                    for (int i = 0; i < outH * outW; i++) {
                        y[yBase + i] += weight * x[xBase + i];
                    }
                    continue;
                }
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        float weight = weights[((m * groupIn + c) * kh + ky) * kw + kx];
                        int offsetX = kx * w.dilationW() - w.padLeft();
                        // Output columns whose input column ox * stride + offsetX lies inside the image.
                        int oxFirst = Math.max(0, Math.ceilDiv(-offsetX, w.strideW()));
                        int oxEnd = Math.min(outW, Math.floorDiv(width - 1 - offsetX, w.strideW()) + 1);
                        for (int oy = 0; oy < outH; oy++) {
                            int iy = oy * w.strideH() + ky * w.dilationH() - w.padTop();
                            if (iy < 0 || iy >= height) {
                                continue;
                            }
                            int xRow = xBase + iy * width + offsetX;
                            int yRow = yBase + oy * outW;
                            for (int ox = oxFirst; ox < oxEnd; ox++) {
                                y[yRow + ox] += weight * x[xRow + ox * w.strideW()];
                            }
                        }
                    }
                }
            }
            Epilogue.apply(conv.postOps(), y, in.length > 3 ? in[3] : null, yBase, outH * outW);
        });
    }
}
