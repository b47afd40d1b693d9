package dev.kiln.reference;

import dev.kiln.Shape;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;

/** Max over each window; positions in the padding are skipped, so they never win. */
final class MaxPoolKernel {
    private MaxPoolKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        Shape xs = node.inputShape(0);
        Shape ys = node.outputShape();
        Window w = ((MaxPool) node.op()).window().resolve(xs);
        int planes = xs.dim(0) * xs.dim(1), height = xs.dim(2), width = xs.dim(3);
        int outH = ys.dim(2), outW = ys.dim(3);
        float[] x = in[0], y = out[0];
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < w.kernelH(); ky++) {
                        int iy = oy * w.strideH() - w.padTop() + ky * w.dilationH();
                        if (iy < 0 || iy >= height) {
                            continue;
                        }
                        for (int kx = 0; kx < w.kernelW(); kx++) {
                            int ix = ox * w.strideW() - w.padLeft() + kx * w.dilationW();
                            if (ix >= 0 && ix < width) {
                                max = Math.max(max, x[(p * height + iy) * width + ix]);
                            }
                        }
                    }
                    y[(p * outH + oy) * outW + ox] = max;
                }
            }
        }
    }
}
