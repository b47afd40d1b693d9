package dev.kiln.graph;

import dev.kiln.Shape;
import dev.kiln.graph.ops.OpAttributes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A provided op's attributes: each kind read back, defaults, value equality, stable text, and kind mismatches named. */
class OpAttributesTest {
    private static OpAttributes sample() {
        return OpAttributes.empty().with("axis", 1L).with("alpha", 0.5f).with("mode", "tanh")
                .withInts("pads", 1, 2).withFloats("scales", 2f, 3f)
                .withTensor("table", Shape.of(2, 2), new float[]{1, 2, 3, 4});
    }

    @Test
    void everyKindReadsBackAndAbsentOnesGiveTheDefault() {
        OpAttributes a = sample();
        assertEquals(1L, a.getInt("axis", 0));
        assertEquals(0.5f, a.getFloat("alpha", 0));
        assertEquals("tanh", a.getString("mode", null));
        assertArrayEquals(new long[]{1, 2}, a.getInts("pads"));
        assertArrayEquals(new float[]{2, 3}, a.getFloats("scales"));
        assertEquals(Shape.of(2, 2), a.getTensor("table").shape());
        assertArrayEquals(new float[]{1, 2, 3, 4}, a.getTensor("table").values());
        assertEquals(7L, a.getInt("missing", 7));
        assertNull(a.getInts("missing"));
        assertEquals(OpAttributes.Kind.TENSOR, a.kind("table"));
    }

    @Test
    void equalByValueWithTextThatDoesNotDependOnInsertionOrder() {
        OpAttributes reordered = OpAttributes.empty().withTensor("table", Shape.of(2, 2), new float[]{1, 2, 3, 4})
                .withFloats("scales", 2f, 3f).withInts("pads", 1, 2).with("mode", "tanh").with("alpha", 0.5f)
                .with("axis", 1L);
        assertEquals(sample(), reordered);
        assertEquals(sample().hashCode(), reordered.hashCode());
        assertEquals(sample().toString(), reordered.toString());
        assertNotEquals(sample(), reordered.withInts("pads", 1, 3));
    }

    @Test
    void readingAnAttributeAsAnotherKindNamesItAndBothKinds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sample().getInt("alpha", 0));
        assertEquals("attribute 'alpha' is FLOAT (0.5), read as INT", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> sample().getFloats("pads"));
        assertEquals("attribute 'pads' is INTS ([1, 2]), read as FLOATS", e.getMessage());
    }

    @Test
    void aTensorNeedsOneValuePerElement() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpAttributes.empty().withTensor("t", Shape.of(3), new float[]{1, 2}));
        assertEquals("a tensor attribute of shape " + Shape.of(3) + " needs 3 values, got 2", e.getMessage());
    }
}
