package dev.kiln.optimize;

import dev.kiln.graph.Node;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Reshape;
import dev.kiln.graph.ops.Window;

/**
 * Removes nodes that return their input unchanged at inference: Identity, Dropout (unless its
 * mask is read), a Flatten or Reshape whose output has its input's shape at every batch size,
 * and a pooling whose window is a single pixel. A Flatten of [N, C, 1, 1] to [N, C] does
 * change the shape and stays.
 */
public final class RemoveInferenceNoOps implements Pass {

    @Override
    public String name() {
        return "remove-inference-no-ops";
    }

    @Override
    public int run(WorkingGraph graph) {
        // Removing a no-op changes no value's shape, so shapes computed once stay right.
        ValueShapes shapes = graph.shapes();
        int removed = 0;
        boolean progress = true;
        while (progress) {
            // Bypassing rewrites the readers of the removed output, so a no-op right after another
            // is a new node instance, found on the next sweep.
            progress = false;
            for (Node n : graph.nodes()) {
                if (graph.contains(n) && isNoOp(n, graph, shapes) && graph.bypass(n)) {
                    removed++;
                    progress = true;
                }
            }
        }
        return removed;
    }

    private static boolean isNoOp(Node n, WorkingGraph graph, ValueShapes shapes) {
        return switch (n.op()) {
            case Passthrough p -> !readsDropoutMask(n, graph);
            case Flatten f -> shapes.sameAtEveryBatch(n.input(0), n.output());
            case Reshape r -> shapes.sameAtEveryBatch(n.input(0), n.output());
            case AveragePool p -> isSinglePixel(p.window());
            case MaxPool p -> isSinglePixel(p.window());
            default -> false;
        };
    }

    /**
     * A 1x1 window with stride 1 and no padding picks each pixel alone: PyTorch exports VGG's
     * adaptive average pool to 7x7, on a 7x7 input, as such an AveragePool.
     */
    private static boolean isSinglePixel(Window w) {
        return w.kernelH() == 1 && w.kernelW() == 1 && w.strideH() == 1 && w.strideW() == 1
                && w.dilationH() == 1 && w.dilationW() == 1
                // automatic padding of a 1x1 window with stride 1 is none
                && (w.padding() != Window.AutoPad.EXPLICIT || w.padTop() + w.padLeft() + w.padBottom() + w.padRight() == 0);
    }

    private static boolean readsDropoutMask(Node n, WorkingGraph graph) {
        for (int i = 1; i < n.outputs().size(); i++) {
            String mask = n.outputs().get(i);
            if (!mask.isEmpty() && (graph.isGraphOutput(mask) || !graph.consumers(mask).isEmpty())) {
                return true;
            }
        }
        return false;
    }
}
