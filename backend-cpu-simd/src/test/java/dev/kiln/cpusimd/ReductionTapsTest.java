package dev.kiln.cpusimd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReductionTapsTest {
    private static final int L = BlockedLayout.LANES;

    /** {@link ReductionTaps#wholeBlocks}, which picks the constant-trip micro-kernel, holds for exactly the 1x1 form. */
    @Test
    void wholeBlocksOnlyWhereEveryTapIsOneFullChannelBlock() {
        assertTrue(ReductionTaps.forConv(4 * L, 7, 9, L, 1, 1, 1, 1).wholeBlocks);
        assertTrue(ReductionTaps.forConv(L, 7, 9, L, 1, 1, 1, 1).wholeBlocks);
        // A partial last block, a 3x3 window (contiguous kw taps merge to 3 blocks' length), a compact input.
        assertFalse(ReductionTaps.forConv(4 * L + 1, 7, 9, L, 1, 1, 1, 1).wholeBlocks);
        assertFalse(ReductionTaps.forConv(2 * L, 9, 11, L, 3, 3, 1, 1).wholeBlocks);
        assertFalse(ReductionTaps.forConv(3, 9, 11, 3, 1, 1, 1, 1).wholeBlocks);
        assertFalse(ReductionTaps.forRows(1000).wholeBlocks);
    }

    /**
     * {@link ReductionTaps#blockLengths}, which picks the constant-trip micro-kernels, holds exactly
     * where every tap is whole channel blocks.
     */
    @Test
    void blockLengthsOnlyWhereEveryTapIsWholeChannelBlocks() {
        assertTrue(ReductionTaps.forConv(4 * L, 7, 9, L, 1, 1, 1, 1).blockLengths);
        assertTrue(ReductionTaps.forConv(L, 7, 9, L, 1, 1, 1, 1).blockLengths);
        // A 3x3 window: contiguous kw taps merge to 3 blocks' length; dilated ones stay one block each.
        ReductionTaps threeByThree = ReductionTaps.forConv(2 * L, 9, 11, L, 3, 3, 1, 1);
        assertTrue(threeByThree.blockLengths);
        assertEquals(3 * L, threeByThree.length[0], "merged kw taps");
        assertTrue(ReductionTaps.forConv(2 * L, 9, 11, L, 3, 3, 2, 2).blockLengths);
        // A 1x1 image: every block's tap merges into one run of all channels.
        assertTrue(ReductionTaps.forConv(4 * L, 1, 1, L, 1, 1, 1, 1).blockLengths);
        // A partial last block (alone, or merged into a run), a compact input, a row-major K off the lanes.
        assertFalse(ReductionTaps.forConv(4 * L + 1, 7, 9, L, 1, 1, 1, 1).blockLengths);
        assertFalse(ReductionTaps.forConv(4 * L + 1, 1, 1, L, 1, 1, 1, 1).blockLengths);
        assertFalse(ReductionTaps.forConv(2 * L + 3, 9, 11, L, 3, 3, 1, 1).blockLengths);
        assertFalse(ReductionTaps.forConv(3, 9, 11, 3, 1, 1, 1, 1).blockLengths);
        assertFalse(ReductionTaps.forRows(1001).blockLengths);
    }
}
