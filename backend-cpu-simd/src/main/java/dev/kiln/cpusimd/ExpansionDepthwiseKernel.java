package dev.kiln.cpusimd;

import dev.kiln.spi.HostThreads;

/**
 * A convolution and the depthwise convolution that alone reads its output, run as one step: the
 * expansion and depthwise of an inverted residual block (MobileNet v2, EfficientNet). The
 * expanded value is the largest of these networks (96 channels at 112x112 is 4.8 MB), and in two
 * steps it is written to memory by one kernel and read back by the next. Here each task owns two
 * channel blocks and a band of depthwise output rows: it computes, a few rows at a time, the
 * expanded rows those outputs read into a buffer of its own that stays in cache, and runs the
 * depthwise on them. Bands overlap by the filter's reach, so a few expanded rows are computed
 * twice; each task's buffer keeps the rows shared by its next few output rows instead of
 * recomputing them.
 *
 * <p>Built by {@link SimdPartition} from the two kernels the registry chose, when the first
 * takes {@link FusedForm#EXPANSION_ROWS} and the second {@link FusedForm#DEPTHWISE_ROWS}, whichever
 * provider made them.
 */
final class ExpansionDepthwiseKernel implements SimdKernel {
    private static final int L = BlockedLayout.LANES;
    /** Expanded rows a task's buffer holds, per channel block, at most about this many floats: well inside L2. */
    private static final int BUFFER_FLOATS_PER_BLOCK = 16 * 1024;

    private final ExpansionRows expansion;
    private final DepthwiseRows depthwise;
    private final int batch, blocks, pairs, height, width, outH;
    /** Bands of output rows each (image, pair of blocks) is cut into: one task each. */
    private final int bands;
    /** Depthwise output rows a task computes per refill of its buffer. */
    private final int rowsPerStep;
    /** Input rows the buffer holds for {@link #rowsPerStep} output rows, at most. */
    private final int bufferRows;

    ExpansionDepthwiseKernel(ExpansionRows expansion, DepthwiseRows depthwise, int batch, int height,
                             int width, int parallelism) {
        if (!FusedForm.EXPANSION_ROWS.takenBy(expansion) || !FusedForm.DEPTHWISE_ROWS.takenBy(depthwise)
                || expansion.outputBlocks() != depthwise.blocks()) {
            throw new IllegalArgumentException("these two kernels do not run as one: " + expansion.algorithm()
                    + " / " + depthwise.algorithm());
        }
        this.expansion = expansion;
        this.depthwise = depthwise;
        this.batch = batch;
        this.blocks = depthwise.blocks();
        this.pairs = Math.ceilDiv(blocks, 2);
        this.height = height;
        this.width = width;
        this.outH = depthwise.outputRows();
        this.bands = WorkSplit.bandsPerPlane(batch * pairs, outH, parallelism);
        int rowsFit = Math.max(1, BUFFER_FLOATS_PER_BLOCK / (width * L));
        int steps = 1;
        while (steps < outH && rowsRead(0, steps + 1) <= rowsFit) {
            steps++;
        }
        this.rowsPerStep = steps;
        int most = 0;
        for (int oy = 0; oy < outH; oy++) {
            most = Math.max(most, rowsRead(oy, Math.min(outH, oy + steps)));
        }
        this.bufferRows = Math.max(1, most);
    }

    /** Input rows that output rows [from, to) read. */
    private int rowsRead(int from, int to) {
        return Math.max(0, depthwise.endInputRow(to - 1) - depthwise.firstInputRow(from));
    }

    @Override
    public String algorithm() {
        return "expanded rows kept in cache, " + rowsPerStep + " depthwise rows at a time";
    }

    @Override
    public long scratchFloats() {
        return (long) batch * pairs * bands * bufferFloats();
    }

    private long bufferFloats() {
        return 2L * bufferRows * width * L;
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        threads.parallelFor(batch * pairs * bands, task -> {
            int band = task % bands, pair = task / bands % pairs, image = task / bands / pairs;
            computeBand(x, y, scratch, (int) (task * bufferFloats()), image, 2 * pair,
                    WorkSplit.bandStart(band, bands, outH), WorkSplit.bandStart(band + 1, bands, outH));
        });
    }

    /**
     * Depthwise output rows [rowStart, rowEnd) of blocks {@code block} and {@code block + 1} (if
     * it exists) of one image, using the buffer at {@code buffer}: per block, expanded rows
     * [haveFrom, haveTo) laid out as in the plane, one after another.
     */
    private void computeBand(float[] x, float[] y, float[] scratch, int buffer, int image, int block, int rowStart,
                             int rowEnd) {
        boolean pair = block + 1 < blocks;
        int rowFloats = width * L, blockStride = bufferRows * rowFloats;
        int haveFrom = 0, haveTo = 0;
        for (int oy = rowStart; oy < rowEnd; oy += rowsPerStep) {
            int stepEnd = Math.min(rowEnd, oy + rowsPerStep);
            int from = depthwise.firstInputRow(oy), to = Math.max(from, depthwise.endInputRow(stepEnd - 1));
            // Rows the last step computed and this one reads again move to the top of the buffer.
            int keptFrom = Math.max(from, haveFrom), keptTo = Math.min(to, haveTo);
            if (keptFrom < keptTo && keptFrom > haveFrom) {
                for (int b = 0; b < (pair ? 2 : 1); b++) {
                    int at = buffer + b * blockStride;
                    System.arraycopy(scratch, at + (keptFrom - haveFrom) * rowFloats, scratch, at,
                            (keptTo - keptFrom) * rowFloats);
                }
            }
            int computeFrom = keptFrom < keptTo ? keptTo : from;
            if (computeFrom < to) {
                int firstPixel = image * height * width + computeFrom * width;
                int at = buffer + (computeFrom - from) * rowFloats;
                expansion.finishRows(x, firstPixel, firstPixel + (to - computeFrom) * width, block, pair, scratch,
                        at, at + blockStride);
            }
            haveFrom = from;
            haveTo = to;
            for (int b = 0; b < (pair ? 2 : 1); b++) {
                int inPlane = buffer + b * blockStride - from * rowFloats;
                depthwise.computeRows(scratch, inPlane, y, null, image * blocks + block + b, oy, stepEnd);
            }
        }
    }
}
