package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.ValueInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The shape of every value of a working graph, and whether two values have the same shape at
 * every input shape the graph can run at. A rewrite must hold for all of them: a Reshape to a
 * literal [1, 512] does nothing at batch 1 but is not a no-op at batch 2.
 *
 * <p>Batch: shape rules are affine in the batch, so agreeing at batches 1 and 2 means agreeing
 * at all. Image size (an input open beyond the batch, {@link Shape#DYNAMIC} height and width):
 * shapes are inferred at {@link #SIZE_OFFSETS probe sizes} chosen to meet every remainder a
 * stride of up to 32 can floor or ceil differently, so two values that agree at all of them agree
 * at the sizes a convolutional network runs at. A dimension that differs between the probes is
 * unknown ({@link Shape#DYNAMIC} in {@link #of}); one that stays the same (channels) is known.
 * A fused node whose inputs would still disagree at some other size fails that size's shape
 * inference with the node's name when the model compiles for it: loudly, never silently.
 */
public final class ValueShapes {
    /** Open dimensions are probed at this size plus each offset: large enough for a network's downsampling. */
    static final int PROBE_BASE = 224;
    /** Offsets with every remainder modulo 2, 4 and 8 and odd ones up to 31, for height and width apart. */
    static final int[] SIZE_OFFSETS = {0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 17, 31};

    /** Each value's shape at batch 1, with the dimensions unknown at open image sizes as {@link Shape#DYNAMIC}. */
    private final Map<String, Shape> known;
    /** The shapes of every value at each probe; two values agree when they agree at all of them. */
    private final List<Map<String, Shape>> probes;

    private ValueShapes(Map<String, Shape> known, List<Map<String, Shape>> probes) {
        this.known = known;
        this.probes = probes;
    }

    /**
     * The facts for a graph with these inputs, inferring shapes with {@code infer} (value shapes
     * for concrete input shapes).
     *
     * @throws GraphValidationException when the shapes do not infer at batch 1, or, for inputs
     *                                  open beyond the batch, at one of the probe sizes (naming it)
     */
    static ValueShapes of(Function<Map<String, Shape>, Map<String, Shape>> infer, List<ValueInfo> inputs) {
        if (!openBeyondBatch(inputs)) {
            Map<String, Shape> one = infer.apply(concrete(inputs, 1, 0, 0));
            if (inputs.stream().allMatch(v -> v.shape().isConcrete())) {
                return new ValueShapes(one, List.of(one));
            }
            try {
                return new ValueShapes(one, List.of(one, infer.apply(concrete(inputs, 2, 0, 0))));
            } catch (GraphValidationException batchOneOnly) {
                // A graph exported with its batch baked into a reshape can only ever run at batch 1.
                return new ValueShapes(one, List.of(one));
            }
        }
        List<Map<String, Shape>> probes = new ArrayList<>();
        for (int i = 0; i < SIZE_OFFSETS.length; i++) {
            // Height and width take different remainders, so that a rule that swaps them shows.
            int h = PROBE_BASE + SIZE_OFFSETS[i];
            int w = PROBE_BASE + SIZE_OFFSETS[(i * 5 + 3) % SIZE_OFFSETS.length];
            probes.add(inferAt(infer, inputs, 1, h, w));
        }
        probes.add(inferAt(infer, inputs, 2, PROBE_BASE, PROBE_BASE));
        Map<String, Shape> known = new LinkedHashMap<>();
        Map<String, Shape> first = probes.getFirst();
        for (Map.Entry<String, Shape> e : first.entrySet()) {
            int[] d = e.getValue().dims();
            for (int p = 1; p < probes.size() - 1; p++) { // the batch-2 probe says nothing of the image size
                Shape other = probes.get(p).get(e.getKey());
                for (int i = 0; i < d.length; i++) {
                    if (other == null || other.rank() != d.length || other.dim(i) != d[i]) {
                        d[i] = Shape.DYNAMIC;
                    }
                }
            }
            known.put(e.getKey(), Shape.of(d));
        }
        return new ValueShapes(known, List.copyOf(probes));
    }

    /** The value's shape at batch 1; a dimension that depends on an open image size is {@link Shape#DYNAMIC}. */
    public Shape of(String value) {
        Shape s = known.get(value);
        if (s == null) {
            throw new IllegalArgumentException("no value '" + value + "' in the graph");
        }
        return s;
    }

    /**
     * Whether the two values have equal shapes at every input shape the graph can run at: every
     * batch size, and, where the image size is open, every probed size.
     */
    public boolean sameAtEveryBatch(String a, String b) {
        of(a);
        of(b);
        for (Map<String, Shape> p : probes) {
            if (!p.get(a).equals(p.get(b))) {
                return false;
            }
        }
        return true;
    }

    private static boolean openBeyondBatch(List<ValueInfo> inputs) {
        for (ValueInfo v : inputs) {
            for (int i = 1; i < v.shape().rank(); i++) {
                if (v.shape().dim(i) == Shape.DYNAMIC) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Map<String, Shape> inferAt(Function<Map<String, Shape>, Map<String, Shape>> infer,
                                              List<ValueInfo> inputs, int batch, int height, int width) {
        try {
            return infer.apply(concrete(inputs, batch, height, width));
        } catch (GraphValidationException e) {
            throw new GraphValidationException("shapes do not infer at batch " + batch + " and image size " + height
                    + "x" + width + ", where the optimizer probes a graph whose image size is open: " + e.getMessage(),
                    e);
        }
    }

    /**
     * The inputs' declared shapes with the open batch axis set to {@code batch} and any other
     * open axis to {@code height} (axis 2 and before) or {@code width} (axis 3 and after).
     */
    private static Map<String, Shape> concrete(List<ValueInfo> inputs, int batch, int height, int width) {
        Map<String, Shape> shapes = new HashMap<>();
        for (ValueInfo v : inputs) {
            int[] d = v.shape().dims();
            for (int i = 0; i < d.length; i++) {
                if (d[i] == Shape.DYNAMIC) {
                    d[i] = i == 0 ? batch : i <= 2 ? height : width;
                }
            }
            shapes.put(v.name(), Shape.of(d));
        }
        return shapes;
    }
}
