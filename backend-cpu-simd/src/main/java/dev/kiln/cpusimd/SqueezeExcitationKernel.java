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
 * between each: (1) the mean of every channel, a vector per (image, channel block); (2) the
 * squeeze, R dot products of W1's rows with the means; (3) per (image, channel block) the gate
 * vector, gate(B2 + sum_r W2[:, r] * squeezed[r]) with W2 stored transposed so that a channel
 * block's column is one vector, then the multiply over the plane.
 *
 * <p>It may overwrite its input: pass 3 reads each element once and writes it back in place,
 * and passes 1 and 2, which read the whole plane, have finished before it starts.
 */
public final class SqueezeExcitationKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final int batch, blocks, height, pixels, reduced;
    private final ActivationFunction squeezeActivation, gateActivation;
    /** W1 as [R][blocks * L] and W2 transposed as [R][blocks * L], zero past the real channels. */
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

    /** W1 as [R][blocks * L], W2 transposed to [R][blocks * L], B1 [R], B2 blocked; zero where padding. */
    private static float[][] pack(BoundNode node, int channels, int reduced) {
        int row = BlockedLayout.blocks(channels) * L;
        float[] w1 = ChannelPacking.values(node.constant(1)), w2 = ChannelPacking.values(node.constant(2));
        float[] squeezeWeights = new float[reduced * row];
        float[] excitationWeights = new float[reduced * row];
        for (int r = 0; r < reduced; r++) {
            for (int c = 0; c < channels; c++) {
                squeezeWeights[r * row + c] = w1[r * channels + c];
                excitationWeights[r * row + c] = w2[c * reduced + r];
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

        threads.parallelFor(batch * blocks, plane -> {
            FloatVector sum = FloatVector.zero(SPECIES);
            for (int p = plane * planeFloats; p < (plane + 1) * planeFloats; p += L) {
                sum = sum.add(FloatVector.fromArray(SPECIES, x, p));
            }
            sum.div((float) pixels).intoArray(scratch, meansStart + plane * L);
        });

        threads.parallelFor(batch, image -> {
            int means = meansStart + image * blocks * L;
            for (int r = 0; r < reduced; r++) {
                FloatVector dot = FloatVector.zero(SPECIES);
                for (int c = 0; c < blocks * L; c += L) {
                    dot = FloatVector.fromArray(SPECIES, squeezeWeights, r * blocks * L + c)
                            .fma(FloatVector.fromArray(SPECIES, scratch, means + c), dot);
                }
                float sum = squeezeBias[r] + dot.reduceLanes(VectorOperators.ADD);
                scratch[squeezedStart + image * reduced + r] = squeezeActivation.apply(sum);
            }
            int gates = gatesStart + image * blocks * L;
            for (int block = 0; block < blocks; block++) {
                FloatVector gate = FloatVector.fromArray(SPECIES, excitationBias, block * L);
                for (int r = 0; r < reduced; r++) {
                    float squeezed = scratch[squeezedStart + image * reduced + r];
                    gate = FloatVector.fromArray(SPECIES, excitationWeights, r * blocks * L + block * L)
                            .fma(FloatVector.broadcast(SPECIES, squeezed), gate);
                }
                gate.intoArray(scratch, gates + block * L);
            }
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
}
