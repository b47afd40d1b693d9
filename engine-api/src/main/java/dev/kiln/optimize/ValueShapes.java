package dev.kiln.optimize;

import dev.kiln.Shape;
import dev.kiln.graph.GraphValidationException;

import java.util.Map;
import java.util.function.IntFunction;

/**
 * The shape of every value of a working graph at batch 1, and whether two values have the same
 * shape at any batch size. A rewrite must hold for every batch the optimized graph will run at:
 * a Reshape to a literal [1, 512] does nothing at batch 1 but is not a no-op at batch 2. Shape
 * rules are affine in the batch, so agreeing at batches 1 and 2 means agreeing at all.
 */
public final class ValueShapes {
    private final Map<String, Shape> atBatch1;
    /** Null when the graph has fixed input shapes, or only runs at batch 1 (its shape rules fail at 2). */
    private final Map<String, Shape> atBatch2;

    private ValueShapes(Map<String, Shape> atBatch1, Map<String, Shape> atBatch2) {
        this.atBatch1 = atBatch1;
        this.atBatch2 = atBatch2;
    }

    static ValueShapes of(IntFunction<Map<String, Shape>> inferAtBatch, boolean batchIsSymbolic) {
        Map<String, Shape> one = inferAtBatch.apply(1);
        if (!batchIsSymbolic) {
            return new ValueShapes(one, null);
        }
        try {
            return new ValueShapes(one, inferAtBatch.apply(2));
        } catch (GraphValidationException batchOneOnly) {
            // A graph exported with its batch baked into a reshape can only ever run at batch 1.
            return new ValueShapes(one, null);
        }
    }

    /** The value's shape at batch 1. */
    public Shape of(String value) {
        Shape s = atBatch1.get(value);
        if (s == null) {
            throw new IllegalArgumentException("no value '" + value + "' in the graph");
        }
        return s;
    }

    /** Whether the two values have equal shapes at every batch size the graph can run at. */
    public boolean sameAtEveryBatch(String a, String b) {
        return of(a).equals(of(b)) && (atBatch2 == null || atBatch2.get(a).equals(atBatch2.get(b)));
    }
}
