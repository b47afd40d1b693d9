package dev.kiln.reference;

import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.spi.BoundNode;

/** y = f(x) elementwise. */
final class ActivationKernel {
    private ActivationKernel() {
    }

    static void execute(BoundNode node, float[][] in, float[][] out) {
        ActivationFunction f = ((Activation) node.op()).function();
        float[] x = in[0], y = out[0];
        int count = node.outputShape().elementCountInt();
        for (int i = 0; i < count; i++) {
            y[i] = f.apply(x[i]);
        }
    }
}
