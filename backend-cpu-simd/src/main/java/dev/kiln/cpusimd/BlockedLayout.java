package dev.kiln.cpusimd;

import dev.kiln.Shape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The backend's layout for rank-4 activations: NCHWc, channels in blocks of {@link #LANES} (one
 * vector), [N][ceil(C / LANES)][H][W][LANES]. Channels past C in the last block are padding and
 * every kernel keeps them zero, so a kernel may read whole blocks without masking. Values of
 * other ranks are row-major.
 */
public final class BlockedLayout {
    public static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    public static final int LANES = SPECIES.length();

    private BlockedLayout() {
    }

    public static int blocks(int channels) {
        return Math.ceilDiv(channels, LANES);
    }

    /** Floats a value of this shape occupies in this backend: blocked for rank 4, dense otherwise. */
    public static long floats(Shape s) {
        if (s.rank() != 4) {
            return s.elementCount();
        }
        return (long) s.dim(0) * blocks(s.dim(1)) * LANES * s.dim(2) * s.dim(3);
    }

    /**
     * Sets lanes {@code [realLanes, LANES)} of every vector in {@code y[from, from + count)}
     * (one channel block's pixels) back to zero; nothing to do when the block is full.
     */
    public static void zeroPaddingLanes(float[] y, int from, int count, int realLanes) {
        if (realLanes >= LANES) {
            return;
        }
        VectorMask<Float> padding = SPECIES.indexInRange(0, realLanes).not();
        for (int i = from; i < from + count; i += LANES) {
            FloatVector.fromArray(SPECIES, y, i).blend(0f, padding).intoArray(y, i);
        }
    }

    /** NCHW to NCHWc, padding channels with zeros. */
    public static void fromNchw(float[] src, float[] dst, int n, int c, int h, int w) {
        int blocks = blocks(c), plane = h * w;
        for (int b = 0; b < n; b++) {
            for (int cb = 0; cb < blocks; cb++) {
                int dstBase = (b * blocks + cb) * plane * LANES;
                for (int l = 0; l < LANES; l++) {
                    int ch = cb * LANES + l;
                    if (ch >= c) {
                        for (int p = 0; p < plane; p++) {
                            dst[dstBase + p * LANES + l] = 0f;
                        }
                        continue;
                    }
                    int srcBase = (b * c + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        dst[dstBase + p * LANES + l] = src[srcBase + p];
                    }
                }
            }
        }
    }

    /** NCHWc to NCHW, dropping the padding channels. */
    public static void toNchw(float[] src, float[] dst, int n, int c, int h, int w) {
        int blocks = blocks(c), plane = h * w;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int srcBase = (b * blocks + ch / LANES) * plane * LANES + ch % LANES;
                int dstBase = (b * c + ch) * plane;
                for (int p = 0; p < plane; p++) {
                    dst[dstBase + p] = src[srcBase + p * LANES];
                }
            }
        }
    }
}
