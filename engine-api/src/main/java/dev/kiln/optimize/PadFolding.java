package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.AveragePool;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Pad;
import dev.kiln.graph.ops.Window;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Folds a constant Pad of the two spatial axes into the explicit pads of the convolution or
 * pooling that reads it, as exporters write {@code F.pad} before a layer (TensorFlow-style SAME
 * padding). It folds only where the window's own padding means the same value:
 * <ul>
 * <li>Conv pads with zeros: a Pad of 0;</li>
 * <li>MaxPool's padding never wins: a Pad of -infinity;</li>
 * <li>AveragePool counting padded positions ({@code count_include_pad}, no ceil mode) averages
 *     zeros: a Pad of 0.</li>
 * </ul>
 * The Pad must not touch the batch or channel axis, its output must have no other reader, and
 * the window must have explicit pads (an {@code auto_pad} window depends on the input size,
 * which the fold changes).
 */
public final class PadFolding implements Pass {

    @Override
    public String name() {
        return "pad-folding";
    }

    @Override
    public Optional<String> needsConcreteImageSize() {
        return Optional.of("a Pad folds into a max-pool only where every pooling window still reaches the input,"
                + " which depends on the image size");
    }

    @Override
    public int run(WorkingGraph graph) {
        int rewrites = 0;
        for (Node n : graph.nodes()) {
            if (graph.contains(n) && n.op() instanceof Pad pad && fold(n, pad, graph)) {
                rewrites++;
            }
        }
        return rewrites;
    }

    private static boolean fold(Node padNode, Pad pad, WorkingGraph graph) {
        if (pad.pads().length != 8 || pad.before(0) + pad.after(0) + pad.before(1) + pad.after(1) != 0) {
            return false;
        }
        List<Node> readers = graph.consumers(padNode.output());
        if (readers.size() != 1 || !graph.isOnlyReadBy(padNode.output(), readers.getFirst())) {
            return false;
        }
        Node reader = readers.getFirst();
        if (!reader.input(0).equals(padNode.output())) {
            return false;
        }
        Op folded = switch (reader.op()) {
            case Conv c when pad.value() == 0f -> grown(c.window(), pad) == null ? null
                    : new Conv(grown(c.window(), pad), c.groups(), c.postOps());
            case MaxPool m when pad.value() == Float.NEGATIVE_INFINITY && poolable(grown(m.window(), pad))
                    && onInput(grown(m.window(), pad), graph.shapes().of(padNode.input(0)), m.ceilMode()) ->
                    new MaxPool(grown(m.window(), pad), m.ceilMode());
            case AveragePool a when pad.value() == 0f && a.countIncludePad() && !a.ceilMode()
                    && poolable(grown(a.window(), pad)) -> new AveragePool(grown(a.window(), pad), false, true);
            default -> null;
        };
        if (folded == null) {
            return false;
        }
        List<String> inputs = new ArrayList<>(reader.inputs());
        inputs.set(0, padNode.input(0));
        graph.remove(padNode);
        graph.replace(reader, new Node(reader.name(), folded, inputs, reader.outputs()));
        return true;
    }

    /** Pooling needs pads smaller than its kernel; a larger Pad stays a Pad. */
    private static boolean poolable(Window w) {
        if (w == null) {
            return false;
        }
        try {
            w.requirePadsSmallerThanKernel();
            return true;
        } catch (IllegalArgumentException tooLarge) {
            return false;
        }
    }

    /**
     * A dilated window over the grown padding may take no tap from the input (its max was the
     * Pad's -infinity); the pool refuses such a window, so the Pad stays.
     */
    private static boolean onInput(Window w, Shape input, boolean ceilMode) {
        try {
            w.requireEveryWindowOnInput(input.dim(2), input.dim(3), ceilMode);
            return true;
        } catch (IllegalArgumentException offInput) {
            return false;
        }
    }

    /** The window with the Pad's spatial pads added, or null when its padding is automatic. */
    private static Window grown(Window w, Pad pad) {
        if (w.padding() != Window.AutoPad.EXPLICIT) {
            return null;
        }
        return w.withPads(w.padTop() + pad.before(2), w.padLeft() + pad.before(3),
                w.padBottom() + pad.after(2), w.padRight() + pad.after(3));
    }
}
