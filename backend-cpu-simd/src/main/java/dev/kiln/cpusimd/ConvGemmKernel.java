package dev.kiln.cpusimd;

import dev.kiln.graph.ops.ShapeArithmetic;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.PostOp;
import dev.kiln.graph.ops.Window;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.PreparedWeights;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Dense convolution, and the fully connected layer, as one GEMM: each output pixel is a row,
 * each output channel a column, and the reduction runs over (input channel, kh, kw) through a
 * table of input offsets ({@link ReductionTaps}) instead of an im2col copy. Row r reads its
 * inputs from its own base offset, the origin of its window, so a single micro-kernel serves
 * 1x1 and KxK kernels, strides, dilations, first layers with 3 channels (only real channels
 * are in K) and row-major matrices, and a row tile may span output rows and images.
 *
 * <p>Conv inputs and outputs are NCHWc ({@link BlockedLayout}); weights and bias are packed
 * once here. A padded window first copies the input into a zero-bordered image in scratch, so
 * the micro-kernel never tests borders ({@link PaddedInput}, which also compacts few-channel inputs). Grouped convolutions with few groups run as dense ones
 * with block-diagonal weights: up to {@link #MAX_GROUPS} times the work of the grouped form,
 * still faster than a kernel that could not use the register tile.
 *
 * <p>For {@link Gemm} ({@link #forGemm}), A is row-major [M, K] and Y row-major [M, N]: sums
 * accumulate in blocked form in scratch, and the epilogue writes only the N real columns.
 */
public final class ConvGemmKernel implements ExpansionRows, PaddedUploadReader {
    /** The GEMM loop's task for the buffers of the last call (see {@link LastTask}). */
    private final LastTask tasks = new LastTask();
    /** More groups than this go to a grouped or depthwise kernel: the dense form wastes groups-fold work. */
    public static final int MAX_GROUPS = 8;

    private static final VectorSpecies<Float> S = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;
    private static final int WIDE = GemmMicroKernel.WIDE_ROWS;
    private static final int NARROW = GemmMicroKernel.NARROW_ROWS;
    /**
     * Weights of one K chunk that a task may sweep for every tile: half of this machine's L2
     * ({@link CacheSizes}), the rest being the tile's inputs and outputs (512 KiB in the 1 MiB L2
     * where it was measured).
     */
    private static final long L2_WEIGHT_BYTES = CacheSizes.MACHINE.l2() / 2;

    private final String algorithm;
    /** The two-block micro-kernels' register tile. */
    private final RegisterTiles registers;
    private final ReductionTaps taps;
    private final PackedConvWeights packed;
    private final Epilogue epilogue;
    private final int lastBlockRealLanes;
    /** Null when the window has no padding: the kernel then reads its input in place. */
    private final PaddedInput padded;
    /** Whether the partition hands over the input already as {@link #padded} lays it out ({@link #takePaddedInput}). */
    private boolean inputPadded;

    private final int rows;
    /** Per row: offset of its window origin in the (padded) input. */
    private final int[] xRow;
    /** Per row: offset of its sums in the accumulator array, and the stride between column blocks there. */
    private final int[] cRow;
    private final int cBlockStride;
    /** Per row: offset of its result in the output, and the stride between column blocks there. */
    private final int[] outRow;
    private final int outBlockStride;
    /** Row-major output: sums accumulate in scratch and only real columns are stored. */
    private final boolean plainOutput;
    /** Real lanes of the last column block. */
    private final VectorMask<Float> lastBlockLanes;
    private final boolean lastBlockPartial;
    /**
     * Per output column, as the bias: the in-register epilogue when it has no residual add (clips
     * composed are one clip, whose bounds are what it makes of -inf and +inf), the whole line
     * otherwise ({@link #finish} then applies the epilogue); 0 and 0 for the padding columns of a
     * blocked output, which must be zero.
     */
    private final float[] clipLow, clipHigh;
    /** {@link Epilogue#registerBounds()}, for {@link #finish}. */
    private final float[] registerBounds;
    private final int wideTiles, tiles;
    /** {@link #adjacentFrom(int[])} of {@link #xRow}. */
    private final boolean[] adjacentFrom;
    /** Whether a Conv node adds a residual (input 3). */
    private final boolean addsResidual;
    /**
     * Whether the micro-kernel adds the residual itself where a tile's 12 rows are adjacent ({@link
     * GemmMicroKernel4x2#wideFinalAdjacentWholeBlocksResidual}): with 16 registers, a 1x1
     * convolution (whole-block taps) whose epilogue is clip, residual add, clip, on full column
     * blocks. Elsewhere {@link #finish} adds it in a second pass over the stored tile.
     */
    private final boolean residualInKernel;

    /** A convolution; see {@link #supports}. Weights and bias are read once, here, from the node's constants. */
    public ConvGemmKernel(BoundNode node, PreparedWeights prepared) {
        this(node, prepared, RegisterTiles.MACHINE);
    }

    /** As {@link #ConvGemmKernel(BoundNode, PreparedWeights)} with the register tile of {@code registers}. */
    ConvGemmKernel(BoundNode node, PreparedWeights prepared, RegisterTiles registers) {
        this.registers = registers;
        String reason = unsupportedReason(node);
        if (reason != null || !(node.op() instanceof Conv conv)) {
            throw new IllegalArgumentException(node.node().describe() + ": " + (reason != null ? reason : "not a Conv"));
        }
        Shape xs = node.inputShape(0), ws = node.inputShape(1), ys = node.outputShape();
        Window w = conv.window().resolve(xs);
        int batch = xs.dim(0), channels = xs.dim(1), height = xs.dim(2), width = xs.dim(3);
        int outChannels = ys.dim(1), outH = ys.dim(2), outW = ys.dim(3);
        boolean pads = w.padTop() + w.padLeft() + w.padBottom() + w.padRight() > 0;
        this.padded = pads || PaddedInput.compacts(channels) ? new PaddedInput(batch, channels, height, width,
                w.padTop(), w.padLeft(), w.padBottom(), w.padRight()) : null;
        int xh = padded != null ? padded.paddedHeight : height, xw = padded != null ? padded.paddedWidth : width;
        int pixel = padded != null ? padded.pixelStride : L;

        this.taps = ReductionTaps.forConv(channels, xh, xw, pixel, w.kernelH(), w.kernelW(), w.dilationH(), w.dilationW());
        Tensor bias = node.constant(2);
        // Packed once per compiled model: plans for other batch sizes share them.
        this.packed = prepared.get(CpuSimdBackend.ID + ":" + node.name() + ":conv-gemm",
                () -> PackedConvWeights.forConv(node.constant(1).toFloatArray(),
                        bias == null ? null : bias.toFloatArray(), outChannels, channels, conv.groups(), ws.dim(2),
                        ws.dim(3)), PackedConvWeights::bytes);
        this.epilogue = Epilogue.of(conv.postOps());
        this.registerBounds = epilogue.registerBounds();
        this.clipLow = clipBounds(epilogue, 0, packed.blocks, outChannels);
        this.clipHigh = clipBounds(epilogue, 1, packed.blocks, outChannels);

        int plane = ShapeArithmetic.intProduct("the output plane", outH, outW);
        this.rows = ShapeArithmetic.intProduct("the output pixels", batch, plane);
        this.xRow = new int[rows];
        this.cRow = new int[rows];
        int xImage = ShapeArithmetic.intProduct("the input image", BlockedLayout.blocks(channels), xh, xw, pixel);
        int yImage = ShapeArithmetic.intProduct("the output image", packed.blocks, plane, L);
        ShapeArithmetic.intProduct("the input batch", batch, xImage);
        ShapeArithmetic.intProduct("the output batch", batch, yImage);
        for (int r = 0; r < rows; r++) {
            int n = r / plane, oh = r % plane / outW, ow = r % outW;
            xRow[r] = n * xImage + (oh * w.strideH() * xw + ow * w.strideW()) * pixel;
            cRow[r] = n * yImage + r % plane * L;
        }
        this.cBlockStride = plane * L;
        this.outRow = cRow;
        this.outBlockStride = cBlockStride;
        this.plainOutput = false;
        this.lastBlockRealLanes = outChannels - (packed.blocks - 1) * L;
        this.lastBlockLanes = S.indexInRange(0, lastBlockRealLanes);
        this.lastBlockPartial = outChannels % L != 0;
        this.wideTiles = rows / WIDE;
        this.tiles = wideTiles + Math.ceilDiv(rows % WIDE, NARROW);
        this.adjacentFrom = adjacentFrom(xRow);
        String fused = epilogue.describe();
        this.algorithm = describeConv(w, conv.groups()) + (fused.isEmpty() ? "" : ", epilogue " + fused);
        this.addsResidual = node.inputShape(3) != null;
        this.residualInKernel = addsResidual && registers.pairRows() == GemmMicroKernel4x2.ROWS && taps.wholeBlocks
                && taps.chunks() == 1 && epilogue.addsResidualInRegisters() && !epilogue.hasRest() && !lastBlockPartial;
    }

    private ConvGemmKernel(BoundNode node, List<PostOp> postOps, PreparedWeights prepared, RegisterTiles registers) {
        this.registers = registers;
        Gemm g = (Gemm) node.op();
        Shape as = node.inputShape(0), ys = node.outputShape();
        int m = ys.dim(0), n = ys.dim(1), k = as.dim(1);
        Tensor c = node.constant(2);
        this.padded = null;
        this.taps = ReductionTaps.forRows(k);
        this.packed = prepared.get(CpuSimdBackend.ID + ":" + node.name() + ":gemm",
                () -> PackedConvWeights.forGemm(node.constant(1).toFloatArray(), g.transB(), g.alpha(), k, n,
                        c == null ? null : c.toFloatArray(), g.beta()), PackedConvWeights::bytes);
        this.epilogue = Epilogue.of(postOps);
        this.registerBounds = epilogue.registerBounds();
        this.clipLow = clipBounds(epilogue, 0, packed.blocks, n);
        this.clipHigh = clipBounds(epilogue, 1, packed.blocks, n);
        this.rows = m;
        this.xRow = new int[m];
        this.cRow = new int[m];
        this.outRow = new int[m];
        for (int r = 0; r < m; r++) {
            xRow[r] = r * k;
            cRow[r] = r * L;
            outRow[r] = r * n;
        }
        this.cBlockStride = m * L;
        this.outBlockStride = L;
        this.plainOutput = true;
        this.lastBlockRealLanes = n - (packed.blocks - 1) * L;
        this.lastBlockLanes = S.indexInRange(0, lastBlockRealLanes);
        this.lastBlockPartial = n % L != 0;
        this.wideTiles = rows / WIDE;
        this.tiles = wideTiles + Math.ceilDiv(rows % WIDE, NARROW);
        this.adjacentFrom = adjacentFrom(xRow);
        this.addsResidual = false;
        this.residualInKernel = false;
        this.algorithm = "fully connected as GEMM, " + (rows >= WIDE ? registers.describe()
                : rows == 1 && GemmMicroKernel.pairsNarrowTiles(registers) ? "one row, 4 sums over k"
                : "tile " + NARROW + "x1") + ", K=" + k;
    }

    /**
     * A fully connected layer, Y = alpha * A * B' + beta * C with A [M, K] row-major, B constant
     * (transposed or not), C constant per column or absent, followed by {@code epilogue} (activations
     * only, e.g. a fused Relu). See {@link #supportsGemm}.
     */
    public static ConvGemmKernel forGemm(BoundNode node, List<PostOp> epilogue, PreparedWeights prepared) {
        return forGemm(node, epilogue, prepared, RegisterTiles.MACHINE);
    }

    /** As {@link #forGemm(BoundNode, List, PreparedWeights)} with the register tile of {@code registers}. */
    static ConvGemmKernel forGemm(BoundNode node, List<PostOp> epilogue, PreparedWeights prepared,
                                  RegisterTiles registers) {
        String reason = unsupportedGemmReason(node);
        if (reason == null && epilogue.stream().anyMatch(p -> !(p instanceof PostOp.Activate))) {
            reason = "a Gemm epilogue may only hold activations";
        }
        if (reason != null) {
            throw new IllegalArgumentException(node.node().describe() + ": " + reason);
        }
        return new ConvGemmKernel(node, epilogue, prepared, registers);
    }

    public static boolean supports(BoundNode node) {
        return unsupportedReason(node) == null;
    }

    /** Why this kernel cannot run a Conv node, or null if it can. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof Conv conv)) {
            return "not a Conv";
        }
        if (node.inputShape(0).rank() != 4) {
            return "input is not rank 4";
        }
        if (conv.groups() > MAX_GROUPS) {
            return conv.groups() + " groups: the dense form would do " + conv.groups() + "x the work";
        }
        if (!node.isConstant(1)) {
            return "weights are not a constant";
        }
        if (node.inputShape(2) != null && !node.isConstant(2)) {
            return "bias is not a constant";
        }
        return null;
    }

    public static boolean supportsGemm(BoundNode node) {
        return unsupportedGemmReason(node) == null;
    }

    /** Why this kernel cannot run a Gemm node, or null if it can. */
    public static String unsupportedGemmReason(BoundNode node) {
        if (!(node.op() instanceof Gemm g)) {
            return "not a Gemm";
        }
        if (g.transA()) {
            return "transposed A";
        }
        if (!node.isConstant(1)) {
            return "B is not a constant";
        }
        Shape c = node.inputShape(2);
        if (c != null) {
            if (!node.isConstant(2)) {
                return "C is not a constant";
            }
            int n = node.outputShape().dim(1);
            boolean perColumn = c.elementCount() == 1
                    || (c.rank() == 1 && c.dim(0) == n) || (c.rank() == 2 && c.dim(0) == 1 && c.dim(1) == n);
            if (!perColumn) {
                return "C " + c + " is not one value per column";
            }
        }
        return null;
    }

    private String describeConv(Window w, int groups) {
        StringBuilder s = new StringBuilder().append(w.kernelH()).append('x').append(w.kernelW()).append(" conv");
        if (w.strideH() != 1 || w.strideW() != 1) {
            s.append(" s").append(w.strideH() == w.strideW() ? "" + w.strideH() : w.strideH() + "x" + w.strideW());
        }
        if (w.dilationH() != 1 || w.dilationW() != 1) {
            s.append(" d").append(w.dilationH() == w.dilationW() ? "" + w.dilationH() : w.dilationH() + "x" + w.dilationW());
        }
        if (groups > 1) {
            s.append(" groups ").append(groups).append(" as dense");
        }
        s.append(" as GEMM over offsets");
        if (padded != null) {
            s.append(padded.pixelStride == L ? " (padded copy)" : " (compact padded copy)");
        }
        return s.append(", ").append(registers.describe()).append(", K=").append(taps.depth).toString();
    }

    @Override
    public String algorithm() {
        return inputPadded ? algorithm.replace("(compact padded copy)", "(input compacted and padded on upload)")
                : algorithm;
    }

    /**
     * The layout this kernel copies a few-channel input into before it starts ({@link PaddedInput}
     * compact), or null. A partition that writes its input in that layout itself, straight from
     * the host, calls {@link #takePaddedInput} at compile time.
     */
    @Override
    public PaddedInput compactPaddedInput() {
        return padded != null && padded.pixelStride != L ? padded : null;
    }

    /** From now on input 0 arrives as {@link #compactPaddedInput()} lays it out; called before any execution. */
    @Override
    public void takePaddedInput() {
        if (compactPaddedInput() == null) {
            throw new IllegalStateException("this kernel does not compact its input: " + algorithm);
        }
        inputPadded = true;
    }

    @Override
    public Set<FusedForm> fusedForms() {
        return FusedForm.where(finishesRowsAlone(), FusedForm.EXPANSION_ROWS, compactPaddedInput() != null,
                FusedForm.COMPACT_PADDED_INPUT);
    }

    @Override
    public long scratchFloats() {
        if (padded != null && !inputPadded) {
            return padded.floats();
        }
        return plainOutput ? (long) rows * packed.blocks * L : 0;
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0];
        if (padded != null && !inputPadded) {
            padded.copy(x, scratch, threads);
            x = scratch;
        }
        float[] y = outputs[0];
        float[] c = plainOutput ? scratch : y;
        float[] residual = inputs.length > 3 ? inputs[3] : null;
        int pairs = Math.ceilDiv(packed.blocks, 2);
        // A task takes every column block when one K chunk of all their weights stays in L2:
        // then each input tile is read once for all of them. Otherwise a task takes one pair of
        // blocks, and threads stream disjoint weights. Several tasks per thread let unequal
        // progress even out.
        long chunkWeightBytes = (long) packed.blocks * Math.min(taps.depth, ReductionTaps.CHUNK_K) * L * Float.BYTES;
        int pairGroups = chunkWeightBytes <= L2_WEIGHT_BYTES ? 1 : pairs;
        int wanted = threads.parallelism() == 1 ? 1 : 8 * threads.parallelism();
        int rowGroups = Math.clamp(Math.ceilDiv(wanted, pairGroups), 1, tiles);
        float[] input = x;
        int count = pairGroups * rowGroups;
        IntConsumer work = tasks.find(input, c, y, residual, count);
        if (work == null) {
            work = tasks.keep(input, c, y, residual, count, task -> {
                int pg = task / rowGroups, rg = task % rowGroups;
                run(2 * split(pg, pairs, pairGroups), Math.min(packed.blocks, 2 * split(pg + 1, pairs, pairGroups)),
                        split(rg, tiles, rowGroups), split(rg + 1, tiles, rowGroups), input, c, y, residual);
            });
        }
        threads.parallelFor(count, work);
    }

    /**
     * Whether {@link #finishRows} may compute this convolution a few output rows at a time into
     * another buffer: a blocked output read in place (no padded copy), all of K in one chunk and
     * no residual.
     */
    boolean finishesRowsAlone() {
        return padded == null && !plainOutput && taps.chunks() == 1 && !addsResidual;
    }

    @Override
    public int outputBlocks() {
        return packed.blocks;
    }

    /**
     * Finished output pixels [first, end) (GEMM rows, of one image) of column block {@code block}
     * and, when {@code pair}, block {@code block + 1}: bias, epilogue and all, stored in {@code c}
     * at {@code cRow[r] - cRow[first] + toA} and {@code ... + toB}, so contiguous there.
     */
    @Override
    public void finishRows(float[] x, int first, int end, int block, boolean pair, float[] c, int toA, int toB) {
        int shift = cRow[first];
        int cA = toA - shift, cB = toB - shift;
        if (pair) {
            for (int r = first; r < end; r += WIDE) {
                // A short last tile moves back to end at `end`: it recomputes rows of the one
                // before (the same values) rather than taking the narrow kernel twice.
                int at = end - first >= WIDE ? Math.min(r, end - WIDE) : r;
                if (at + WIDE <= end && adjacentFrom[at]) {
                    GemmMicroKernel.wideFinalAdjacent(registers, x, xRow[at], taps, packed.weights, packed.blockOffset(block),
                            packed.blockOffset(block + 1), packed.bias, block * L, (block + 1) * L, clipLow,
                            clipHigh, c, cRow, at, cA, cB);
                    continue;
                }
                GemmMicroKernel.wideFinal(registers, x, xRow, at, end - 1, taps, packed.weights, packed.blockOffset(block),
                        packed.blockOffset(block + 1), packed.bias, block * L, (block + 1) * L, clipLow, clipHigh,
                        c, cRow, cA, cB);
            }
        } else {
            for (int r = first; r < end; r += WIDE) {
                int at = end - first >= WIDE ? Math.min(r, end - WIDE) : r;
                GemmMicroKernel.tallFinal(registers, x, xRow, at, end - 1, taps, packed.weights, packed.blockOffset(block),
                        packed.bias, block * L, clipLow, clipHigh, c, cRow, cA);
            }
        }
        if (epilogue.hasRest()) {
            for (int b = block; b < block + (pair ? 2 : 1); b++) {
                int realLanes = lastBlockPartial && b == packed.blocks - 1 ? lastBlockRealLanes : L;
                epilogue.applyRest(c, b == block ? toA : toB, (end - first) * L, null, realLanes);
            }
        }
    }

    /**
     * Per row r, whether rows [r, r + 12) read inputs exactly one NCHWc pixel apart, each from the
     * one before ({@link GemmMicroKernel#wideFinalAdjacent}). Every step counts: the ends alone can
     * match by chance when a tile crosses image rows of a compact few-channel input.
     */
    private static boolean[] adjacentFrom(int[] xRow) {
        boolean[] adjacent = new boolean[xRow.length];
        int steps = 0; // adjacent steps from row r onwards
        for (int r = xRow.length - 1; r >= 0; r--) {
            steps = r + 1 < xRow.length && xRow[r + 1] - xRow[r] == L ? steps + 1 : 0;
            adjacent[r] = steps >= WIDE - 1;
        }
        return adjacent;
    }

    /** {@link #clipLow} (side 0) or {@link #clipHigh} (side 1) per column: zero for padding columns. */
    private static float[] clipBounds(Epilogue epilogue, int side, int blocks, int columns) {
        // Without a residual the second clip is the whole line, so the first one is all there is.
        float bound = epilogue.addsResidualInRegisters()
                ? (side == 0 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY)
                : epilogue.registerBounds()[side];
        float[] bounds = new float[blocks * L];
        java.util.Arrays.fill(bounds, 0, columns, bound);
        return bounds;
    }

    /** Where part {@code i} of {@code total} items cut into {@code parts} near-equal parts starts. */
    private static int split(int i, int total, int parts) {
        return (int) ((long) i * total / parts);
    }

    /** Column blocks [blockFrom, blockTo) over row tiles [tileFrom, tileTo), chunk by chunk of K. */
    private void run(int blockFrom, int blockTo, int tileFrom, int tileTo, float[] x, float[] c, float[] y,
                     float[] residual) {
        if (taps.chunks() == 1) {
            runOneChunk(blockFrom, blockTo, tileFrom, tileTo, x, c, y, residual);
            return;
        }
        int chunks = taps.chunks();
        // Not for a fully connected layer at batch 1, whose one row the clamped 4-row tile would compute four times.
        boolean pairsNarrow = GemmMicroKernel.pairsNarrowTiles(registers) && !plainOutput;
        for (int chunk = 0; chunk < chunks; chunk++) {
            for (int tile = tileFrom; tile < tileTo; tile++) {
                int first = tile < wideTiles ? tile * WIDE : wideTiles * WIDE + (tile - wideTiles) * NARROW;
                int end = Math.min(first + (tile < wideTiles ? WIDE : NARROW), rows);
                boolean narrowPairs = pairsNarrow && end - first < WIDE;
                if (chunk == 0) {
                    prime(c, first, end, blockFrom, blockTo);
                }
                for (int b = blockFrom; b < blockTo; b += 2) {
                    if (b + 1 < blockTo && end - first == WIDE) {
                        GemmMicroKernel.wide(registers, x, xRow, first, rows - 1, taps, chunk, packed.weights,
                                packed.blockOffset(b), packed.blockOffset(b + 1),
                                c, cRow, b * cBlockStride, (b + 1) * cBlockStride);
                        continue;
                    }
                    if (b + 1 < blockTo && narrowPairs) {
                        GemmMicroKernel.narrowPair(x, xRow, first, rows - 1, taps, chunk, packed.weights,
                                packed.blockOffset(b), packed.blockOffset(b + 1),
                                c, cRow, b * cBlockStride, (b + 1) * cBlockStride);
                        continue;
                    }
                    for (int single = b; single < Math.min(b + 2, blockTo); single++) {
                        if (end - first == WIDE) {
                            GemmMicroKernel.tall(registers, x, xRow, first, rows - 1, taps, chunk, packed.weights,
                                    packed.blockOffset(single), c, cRow, single * cBlockStride);
                            continue;
                        }
                        for (int r = first; r < end; r += NARROW) {
                            GemmMicroKernel.narrow(x, xRow, r, rows - 1, taps, chunk, packed.weights,
                                    packed.blockOffset(single), c, cRow, single * cBlockStride);
                        }
                    }
                }
                if (chunk == chunks - 1) {
                    finish(c, y, residual, first, end, blockFrom, blockTo);
                }
            }
        }
    }

    /**
     * As {@link #run} when all of K is one chunk: the micro-kernels start from the bias, and when
     * the in-register epilogue is a clip ({@link #clipLow}) they apply it themselves, so a blocked
     * output is stored once and not read back. Only post-ops left for {@link Epilogue#applyRest}
     * pass over it again, each real row once. With a residual add, the kernels store the plain
     * sums and {@link #finish} runs as for several chunks; a row-major output is copied out of the
     * blocked sums in scratch.
     */
    private void runOneChunk(int blockFrom, int blockTo, int tileFrom, int tileTo, float[] x, float[] c, float[] y,
                             float[] residual) {
        // Not for a fully connected layer at batch 1, whose one row the clamped 4-row tile would compute four times.
        boolean pairsNarrow = GemmMicroKernel.pairsNarrowTiles(registers) && !plainOutput;
        boolean residualInTile = residualInKernel;
        for (int tile = tileFrom; tile < tileTo; tile++) {
            int first = tile < wideTiles ? tile * WIDE : wideTiles * WIDE + (tile - wideTiles) * NARROW;
            int end = Math.min(first + (tile < wideTiles ? WIDE : NARROW), rows);
            boolean narrowPairs = pairsNarrow && end - first < WIDE;
            // A fully connected layer's lone row (batch 1), with 16 registers (not measured with 32).
            boolean singleRow = plainOutput && end - first == 1 && GemmMicroKernel.pairsNarrowTiles(registers);
            boolean adjacent = end - first == WIDE && adjacentFrom[first];
            boolean residualHere = adjacent && residualInTile;
            for (int b = blockFrom; b < blockTo; b += 2) {
                if (residualHere && b + 1 < blockTo) {
                    for (int r = 0; r < WIDE; r += GemmMicroKernel4x2.ROWS) {
                        GemmMicroKernel4x2.wideFinalAdjacentWholeBlocksResidual(x, xRow[first] + r * L, taps,
                                packed.weights, packed.blockOffset(b), packed.blockOffset(b + 1), packed.bias, b * L,
                                (b + 1) * L, registerBounds[0], registerBounds[1], residual, registerBounds[2],
                                registerBounds[3], c, cRow, first + r, b * cBlockStride, (b + 1) * cBlockStride);
                    }
                    continue;
                }
                if (adjacent && b + 1 < blockTo) {
                    GemmMicroKernel.wideFinalAdjacent(registers, x, xRow[first], taps, packed.weights,
                            packed.blockOffset(b), packed.blockOffset(b + 1), packed.bias, b * L, (b + 1) * L,
                            clipLow, clipHigh, c, cRow, first, b * cBlockStride, (b + 1) * cBlockStride);
                    continue;
                }
                if (b + 1 < blockTo && end - first == WIDE) {
                    GemmMicroKernel.wideFinal(registers, x, xRow, first, rows - 1, taps, packed.weights,
                            packed.blockOffset(b), packed.blockOffset(b + 1), packed.bias, b * L, (b + 1) * L,
                            clipLow, clipHigh, c, cRow, b * cBlockStride, (b + 1) * cBlockStride);
                    continue;
                }
                if (b + 1 < blockTo && narrowPairs) {
                    GemmMicroKernel.narrowPairFinal(x, xRow, first, rows - 1, taps, packed.weights,
                            packed.blockOffset(b), packed.blockOffset(b + 1), packed.bias, b * L, (b + 1) * L,
                            clipLow, clipHigh, c, cRow, b * cBlockStride, (b + 1) * cBlockStride);
                    continue;
                }
                for (int single = b; single < Math.min(b + 2, blockTo); single++) {
                    if (end - first == WIDE) {
                        GemmMicroKernel.tallFinal(registers, x, xRow, first, rows - 1, taps, packed.weights,
                                packed.blockOffset(single), packed.bias, single * L, clipLow, clipHigh,
                                c, cRow, single * cBlockStride);
                        continue;
                    }
                    if (singleRow) {
                        GemmMicroKernel.singleRowFinal(x, xRow, first, taps, packed.weights,
                                packed.blockOffset(single), packed.bias, single * L, clipLow, clipHigh,
                                c, cRow, single * cBlockStride);
                        continue;
                    }
                    for (int r = first; r < end; r += NARROW) {
                        GemmMicroKernel.narrowFinal(x, xRow, r, rows - 1, taps, packed.weights,
                                packed.blockOffset(single), packed.bias, single * L, clipLow, clipHigh,
                                c, cRow, single * cBlockStride);
                    }
                }
            }
            if (plainOutput) {
                copyOut(c, y, first, end, blockFrom, blockTo);
            } else if (epilogue.addsResidualInRegisters()) {
                // Pairs of blocks whose kernel added the residual itself are done; a lone last block is not.
                int finished = residualHere ? blockFrom + (blockTo - blockFrom) / 2 * 2 : blockFrom;
                finish(c, y, residual, first, end, finished, blockTo);
            } else if (epilogue.hasRest()) {
                rest(y, residual, first, end, blockFrom, blockTo);
            }
        }
    }

    /** The post-ops {@link Epilogue#inRegisters} left, over a tile's just-stored rows of a blocked output. */
    private void rest(float[] y, float[] residual, int first, int end, int blockFrom, int blockTo) {
        for (int b = blockFrom; b < blockTo; b++) {
            int realLanes = lastBlockPartial && b == packed.blocks - 1 ? lastBlockRealLanes : L;
            // Rows of one image are adjacent pixels of the block: one call per run of them, not per row,
            // since the call and the activation's loop set-up cost as much as a 16-float vector's math.
            for (int r = first; r < end; ) {
                int run = r + 1;
                while (run < end && outRow[run] == outRow[run - 1] + L) {
                    run++;
                }
                epilogue.applyRest(y, outRow[r] + b * outBlockStride, (run - r) * L, residual, realLanes);
                r = run;
            }
        }
    }

    /** Finished sums of a row-major output, from blocked scratch to their real columns, then the rest of the epilogue. */
    private void copyOut(float[] c, float[] y, int first, int end, int blockFrom, int blockTo) {
        for (int b = blockFrom; b < blockTo; b++) {
            boolean partial = lastBlockPartial && b == packed.blocks - 1;
            int realLanes = partial ? lastBlockRealLanes : L;
            for (int r = first; r < end; r++) {
                int at = outRow[r] + b * outBlockStride;
                FloatVector v = FloatVector.fromArray(S, c, cRow[r] + b * cBlockStride);
                if (partial) {
                    v.intoArray(y, at, lastBlockLanes);
                } else {
                    v.intoArray(y, at);
                }
                if (epilogue.hasRest()) {
                    epilogue.applyRest(y, at, realLanes, null, L);
                }
            }
        }
    }

    /** The bias is where the sums start. */
    private void prime(float[] c, int first, int end, int blockFrom, int blockTo) {
        for (int b = blockFrom; b < blockTo; b++) {
            FloatVector bias = FloatVector.fromArray(S, packed.bias, b * L);
            for (int r = first; r < end; r++) {
                bias.intoArray(c, cRow[r] + b * cBlockStride);
            }
        }
    }

    /**
     * The post-ops on finished sums, still in L1. Each real row once: unlike the accumulation,
     * a residual add is not idempotent, so the clamped duplicate rows must not pass here twice.
     */
    private void finish(float[] c, float[] y, float[] residual, int first, int end, int blockFrom, int blockTo) {
        float[] bounds = registerBounds;
        boolean residualInRegisters = epilogue.addsResidualInRegisters();
        for (int b = blockFrom; b < blockTo; b++) {
            boolean partial = lastBlockPartial && b == packed.blocks - 1;
            int realLanes = partial ? lastBlockRealLanes : L;
            for (int r = first; r < end; r++) {
                int at = outRow[r] + b * outBlockStride;
                // The in-register epilogue written out: a call taking a vector may be left
                // un-inlined in this large method, and would then box the vector.
                FloatVector v = FloatVector.fromArray(S, c, cRow[r] + b * cBlockStride).max(bounds[0]).min(bounds[1]);
                if (residualInRegisters) {
                    v = v.add(FloatVector.fromArray(S, residual, at));
                }
                v = v.max(bounds[2]).min(bounds[3]);
                if (!partial) {
                    v.intoArray(y, at);
                } else if (plainOutput) {
                    v.intoArray(y, at, lastBlockLanes);
                } else {
                    // Padding channels must stay zero, and an activation of zero need not be zero.
                    FloatVector.zero(S).blend(v, lastBlockLanes).intoArray(y, at);
                }
                if (epilogue.hasRest()) {
                    // A row-major output has no padding lanes; it stops at its real columns instead.
                    epilogue.applyRest(y, at, plainOutput ? realLanes : L, residual, plainOutput ? L : realLanes);
                }
            }
        }
    }
}
