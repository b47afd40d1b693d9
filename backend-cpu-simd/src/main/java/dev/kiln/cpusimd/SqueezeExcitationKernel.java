package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.SqueezeExcitation;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.PreparedWeights;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused squeeze-and-excitation block on NCHWc values, in three passes with a barrier
 * between each: (1) the mean of every channel, a vector per (image, channel block), summed in
 * four independent chains; (2) the squeeze, R dot products of W1's rows with the means, four
 * rows at a time, then per channel block the gate vector, gate(B2 + sum_r W2[:, r] * squeezed[r]),
 * four blocks at a time; (3) the multiply over each plane.
 *
 * <p>The matrix-vector products are bound by the weights' latency and bandwidth (1152 -> 48 ->
 * 1152: 2 x 221 KB), so each streams its weights contiguously (W1 row by row, W2 as
 * [block][R][L], a block's R vectors one after another) and keeps four sums in flight; each sum
 * still adds its terms in the order of one chain, so they are what a single chain gives.
 *
 * <p>It may overwrite its input: pass 3 reads each element once and writes it back in place,
 * and passes 1 and 2, which read the whole plane, have finished before it starts.
 */
public final class SqueezeExcitationKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final int batch, blocks, height, pixels, reduced;
    private final ActivationFunction squeezeActivation, gateActivation;
    /** W1 as [R][blocks * L] and W2 as [blocks][R][L], zero past the real channels. */
    private final float[] squeezeWeights, excitationWeights;
    private final float[] squeezeBias;
    /** B2 as [blocks * L]. */
    private final float[] excitationBias;

    public SqueezeExcitationKernel(BoundNode node, PreparedWeights prepared) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        SqueezeExcitation se = (SqueezeExcitation) node.op();
        Shape xs = node.inputShape(0);
        batch = xs.dim(0);
        int channels = xs.dim(1);
        blocks = BlockedLayout.blocks(channels);
        height = xs.dim(2);
        pixels = xs.dim(2) * xs.dim(3);
        reduced = node.inputShape(1).dim(0);
        squeezeActivation = se.squeezeActivation();
        gateActivation = se.gateActivation();

        // Packed once per compiled model: plans for other batch sizes share them.
        float[][] packed = prepared.get(CpuSimdBackend.ID + ":" + node.name() + ":squeeze-excitation",
                () -> pack(node, channels, node.inputShape(1).dim(0)), p -> 4L * (p[0].length + p[1].length + p[2].length + p[3].length));
        squeezeWeights = packed[0];
        excitationWeights = packed[1];
        squeezeBias = packed[2];
        excitationBias = packed[3];
    }

    /** W1 as [R][blocks * L], W2 as [blocks][R][L], B1 [R], B2 blocked; zero where padding. */
    private static float[][] pack(BoundNode node, int channels, int reduced) {
        int row = BlockedLayout.blocks(channels) * L;
        float[] w1 = ChannelPacking.values(node.constant(1)), w2 = ChannelPacking.values(node.constant(2));
        float[] squeezeWeights = new float[reduced * row];
        float[] excitationWeights = new float[reduced * row];
        for (int r = 0; r < reduced; r++) {
            for (int c = 0; c < channels; c++) {
                squeezeWeights[r * row + c] = w1[r * channels + c];
                excitationWeights[(c / L * reduced + r) * L + c % L] = w2[c * reduced + r];
            }
        }
        float[] b1 = ChannelPacking.values(node.constant(3));
        return new float[][]{squeezeWeights, excitationWeights, b1 != null ? b1 : new float[reduced],
                ChannelPacking.blocked(ChannelPacking.values(node.constant(4)), channels)};
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        if (!(node.op() instanceof SqueezeExcitation)) {
            return "not a squeeze-and-excitation";
        }
        for (int i = 1; i <= 4; i++) {
            if (node.inputShape(i) != null && !node.isConstant(i)) {
                return "weights and biases must be constant, input " + i + " is not";
            }
        }
        return null;
    }

    @Override
    public String algorithm() {
        return "squeeze-excitation, " + blocks * L + " -> " + reduced + " channels: vector means, packed "
                + "matrix-vector products, gate multiplied over each plane in place";
    }

    @Override
    public int inPlaceInput() {
        return 0;
    }

    /** The means [N][blocks * L], the squeezed vectors [N][R], then the gates [N][blocks * L]. */
    @Override
    public long scratchFloats() {
        return (long) batch * (2 * blocks * L + reduced);
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] x = inputs[0], y = outputs[0];
        int planeFloats = pixels * L;
        int meansStart = 0, squeezedStart = batch * blocks * L, gatesStart = squeezedStart + batch * reduced;

        threads.parallelFor(batch * blocks, plane -> mean(x, plane * planeFloats, scratch, meansStart + plane * L));

        threads.parallelFor(batch, image -> {
            int means = meansStart + image * blocks * L, squeezed = squeezedStart + image * reduced;
            squeeze(scratch, means, squeezed);
            int gates = gatesStart + image * blocks * L;
            excite(scratch, squeezed, gates);
            VectorActivation.apply(gateActivation, scratch, scratch, gates, blocks * L);
        });

        int planes = batch * blocks;
        int bands = WorkSplit.bandsPerPlane(planes, height, threads.parallelism());
        threads.parallelFor(planes * bands, task -> {
            int plane = task / bands, band = task % bands;
            FloatVector gate = FloatVector.fromArray(SPECIES, scratch, gatesStart + plane * L);
            int rowFloats = pixels / height * L;
            int from = plane * planeFloats + WorkSplit.bandStart(band, bands, height) * rowFloats;
            int to = plane * planeFloats + WorkSplit.bandStart(band + 1, bands, height) * rowFloats;
            // Padding lanes: x is zero there, so the product is zero whatever the gate.
            for (int p = from; p < to; p += L) {
                FloatVector.fromArray(SPECIES, x, p).mul(gate).intoArray(y, p);
            }
        });
    }

    /** The plane's mean vector: four chains of adds hide the add's latency behind the loads. */
    private void mean(float[] x, int from, float[] scratch, int at) {
        int to = from + pixels * L, unrolled = from + pixels / 4 * 4 * L;
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
        for (int p = from; p < unrolled; p += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(SPECIES, x, p));
            s1 = s1.add(FloatVector.fromArray(SPECIES, x, p + L));
            s2 = s2.add(FloatVector.fromArray(SPECIES, x, p + 2 * L));
            s3 = s3.add(FloatVector.fromArray(SPECIES, x, p + 3 * L));
        }
        for (int p = unrolled; p < to; p += L) {
            s0 = s0.add(FloatVector.fromArray(SPECIES, x, p));
        }
        s0.add(s1).add(s2.add(s3)).div((float) pixels).intoArray(scratch, at);
    }

    /** squeezed[r] = act(B1[r] + W1[r] . means), four rows at a time sharing each load of the means. */
    private void squeeze(float[] scratch, int means, int squeezed) {
        int row = blocks * L, r = 0;
        for (; r + 4 <= reduced; r += 4) {
            int w = r * row;
            FloatVector d0 = FloatVector.zero(SPECIES), d1 = d0, d2 = d0, d3 = d0;
            for (int c = 0; c < row; c += L) {
                FloatVector m = FloatVector.fromArray(SPECIES, scratch, means + c);
                d0 = FloatVector.fromArray(SPECIES, squeezeWeights, w + c).fma(m, d0);
                d1 = FloatVector.fromArray(SPECIES, squeezeWeights, w + row + c).fma(m, d1);
                d2 = FloatVector.fromArray(SPECIES, squeezeWeights, w + 2 * row + c).fma(m, d2);
                d3 = FloatVector.fromArray(SPECIES, squeezeWeights, w + 3 * row + c).fma(m, d3);
            }
            scratch[squeezed + r] = squeezeActivation.apply(squeezeBias[r] + d0.reduceLanes(VectorOperators.ADD));
            scratch[squeezed + r + 1] = squeezeActivation.apply(squeezeBias[r + 1] + d1.reduceLanes(VectorOperators.ADD));
            scratch[squeezed + r + 2] = squeezeActivation.apply(squeezeBias[r + 2] + d2.reduceLanes(VectorOperators.ADD));
            scratch[squeezed + r + 3] = squeezeActivation.apply(squeezeBias[r + 3] + d3.reduceLanes(VectorOperators.ADD));
        }
        for (; r < reduced; r++) {
            FloatVector dot = FloatVector.zero(SPECIES);
            for (int c = 0; c < row; c += L) {
                dot = FloatVector.fromArray(SPECIES, squeezeWeights, r * row + c)
                        .fma(FloatVector.fromArray(SPECIES, scratch, means + c), dot);
            }
            scratch[squeezed + r] = squeezeActivation.apply(squeezeBias[r] + dot.reduceLanes(VectorOperators.ADD));
        }
    }

    /** gates = B2 + W2 . squeezed before the gate's activation, four blocks at a time sharing each broadcast. */
    private void excite(float[] scratch, int squeezed, int gates) {
        int column = reduced * L, block = 0;
        for (; block + 4 <= blocks; block += 4) {
            int w = block * column;
            FloatVector g0 = FloatVector.fromArray(SPECIES, excitationBias, block * L);
            FloatVector g1 = FloatVector.fromArray(SPECIES, excitationBias, block * L + L);
            FloatVector g2 = FloatVector.fromArray(SPECIES, excitationBias, block * L + 2 * L);
            FloatVector g3 = FloatVector.fromArray(SPECIES, excitationBias, block * L + 3 * L);
            for (int r = 0; r < reduced; r++) {
                FloatVector s = FloatVector.broadcast(SPECIES, scratch[squeezed + r]);
                int at = w + r * L;
                g0 = FloatVector.fromArray(SPECIES, excitationWeights, at).fma(s, g0);
                g1 = FloatVector.fromArray(SPECIES, excitationWeights, at + column).fma(s, g1);
                g2 = FloatVector.fromArray(SPECIES, excitationWeights, at + 2 * column).fma(s, g2);
                g3 = FloatVector.fromArray(SPECIES, excitationWeights, at + 3 * column).fma(s, g3);
            }
            g0.intoArray(scratch, gates + block * L);
            g1.intoArray(scratch, gates + block * L + L);
            g2.intoArray(scratch, gates + block * L + 2 * L);
            g3.intoArray(scratch, gates + block * L + 3 * L);
        }
        for (; block < blocks; block++) {
            FloatVector gate = FloatVector.fromArray(SPECIES, excitationBias, block * L);
            for (int r = 0; r < reduced; r++) {
                gate = FloatVector.fromArray(SPECIES, excitationWeights, (block * reduced + r) * L)
                        .fma(FloatVector.broadcast(SPECIES, scratch[squeezed + r]), gate);
            }
            gate.intoArray(scratch, gates + block * L);
        }
    }
}
