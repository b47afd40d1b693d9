package dev.kiln.cpusimd;

import org.junit.jupiter.api.Test;

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
}
