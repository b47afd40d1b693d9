package dev.kiln.conformance.blocked;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BlockedLayoutTest {

    @Test
    void padsChannelsToWholeBlocks() {
        BlockedLayout layout = BlockedLayout.of(Shape.of(2, 20, 3, 5));
        assertEquals(2, layout.channelBlocks());
        assertEquals(2 * 2 * 3 * 5 * 16, layout.size());
        assertEquals(1, BlockedLayout.of(Shape.of(1, 16, 1, 1)).channelBlocks());
        assertEquals(2, BlockedLayout.of(Shape.of(1, 17, 1, 1)).channelBlocks());
    }

    @Test
    void placesEachElementAtItsBlockAndLane() {
        Shape shape = Shape.of(2, 20, 3, 5);
        float[] nchw = new float[shape.elementCountInt()];
        for (int i = 0; i < nchw.length; i++) {
            nchw[i] = i + 1;
        }
        BlockedLayout layout = BlockedLayout.of(shape);
        float[] blocked = new float[layout.size()];
        try (Tensor host = Tensor.of(shape, nchw)) {
            layout.fromNchw(host, blocked);
        }
        // Element (n=1, c=18, y=2, x=3): block 1, lane 2, written out by hand.
        int nchwIndex = ((1 * 20 + 18) * 3 + 2) * 5 + 3;
        int blockedIndex = ((((1 * 2) + 1) * 3 + 2) * 5 + 3) * 16 + 2;
        assertEquals(nchw[nchwIndex], blocked[blockedIndex]);
        // Lanes 4..15 of block 1 (channels 20..31) do not exist and are zero everywhere.
        for (int n = 0; n < 2; n++) {
            for (int pixel = 0; pixel < 15; pixel++) {
                for (int lane = 4; lane < 16; lane++) {
                    assertEquals(0f, blocked[layout.offset(n, 1, 0, 0) + pixel * 16 + lane]);
                }
            }
        }
    }

    @Test
    void roundTripsThroughTheHostLayout() {
        Shape shape = Shape.of(3, 33, 2, 7);
        float[] nchw = new float[shape.elementCountInt()];
        for (int i = 0; i < nchw.length; i++) {
            nchw[i] = (float) Math.sin(i);
        }
        BlockedLayout layout = BlockedLayout.of(shape);
        float[] blocked = new float[layout.size()];
        try (Tensor in = Tensor.of(shape, nchw); Tensor out = Tensor.allocate(shape)) {
            layout.fromNchw(in, blocked);
            layout.toNchw(blocked, out);
            assertArrayEquals(nchw, out.toFloatArray());
        }
    }

    @Test
    void isOnlyForFourDimensionalTensors() {
        assertThrows(IllegalArgumentException.class, () -> BlockedLayout.of(Shape.of(2, 3)));
    }
}
