package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.graph.ops.Concat;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.ArrayList;
import java.util.List;

/**
 * Concatenation. Most cases are a row-major concat of the values as stored: a blocked rank-4
 * value is a row-major [N][C/L][H][W][L] array, so joining along N, H or W, or along channels
 * when every input but the last fills whole blocks, copies contiguous runs, as a row-major
 * concat does. (The last input's padding lanes land in the output's padding lanes, zero.)
 *
 * <p>Joining along channels at offsets that are not a multiple of L shifts channels across
 * lanes: each output block is then assembled from at most a few inputs with masked gathers, one
 * per input that contributes lanes, with the padding lanes left zero.
 */
public final class ConcatKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private final boolean shiftsLanes;
    /** Row-major form: for each outer index, each input contributes {@code runs[i]} floats. */
    private final int outer;
    private final int[] runs;
    private final int outRun;
    /** Lane-shifting form: output [batch][outBlocks][pixels][L], input i has inBlocks[i] blocks. */
    private final int batch, outBlocks, pixels;
    private final int[] inBlocks;
    /** For output block b, the inputs that fill some of its lanes, which lanes, and where each lane reads. */
    private final int[][] sourceInput;
    private final boolean[][][] sourceLanes;
    private final int[][][] sourceIndex;

    public ConcatKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Shape ys = node.outputShape();
        int axis = Math.floorMod(((Concat) node.op()).axis(), ys.rank());
        int inputCount = node.inputShapes().size();
        boolean blocked = ys.rank() == 4;
        boolean aligned = true;
        for (int i = 0; i < inputCount - 1; i++) {
            aligned &= node.inputShape(i).dim(1) % L == 0;
        }
        shiftsLanes = blocked && axis == 1 && !aligned;

        int[] outStored = stored(ys);
        outer = (int) product(outStored, 0, axis);
        int inner = (int) product(outStored, axis + 1, outStored.length);
        runs = new int[inputCount];
        for (int i = 0; i < inputCount; i++) {
            runs[i] = stored(node.inputShape(i))[axis] * inner;
        }
        outRun = outStored[axis] * inner;

        batch = ys.dim(0);
        outBlocks = blocked ? BlockedLayout.blocks(ys.dim(1)) : 0;
        pixels = blocked ? ys.dim(2) * ys.dim(3) : 0;
        inBlocks = new int[inputCount];
        for (int i = 0; i < inputCount; i++) {
            inBlocks[i] = blocked ? BlockedLayout.blocks(node.inputShape(i).dim(1)) : 0;
        }
        sourceInput = new int[shiftsLanes ? outBlocks : 0][];
        sourceLanes = new boolean[sourceInput.length][][];
        sourceIndex = new int[sourceInput.length][][];
        if (shiftsLanes) {
            mapLanes(node, ys.dim(1));
        }
    }

    /** Fills the gather tables: output channel oc comes from channel ci of the input that holds it. */
    private void mapLanes(BoundNode node, int channels) {
        int[] firstChannel = new int[inBlocks.length + 1];
        for (int i = 0; i < inBlocks.length; i++) {
            firstChannel[i + 1] = firstChannel[i] + node.inputShape(i).dim(1);
        }
        for (int block = 0; block < outBlocks; block++) {
            List<Integer> inputs = new ArrayList<>();
            List<boolean[]> lanes = new ArrayList<>();
            List<int[]> indices = new ArrayList<>();
            for (int l = 0; l < L && block * L + l < channels; l++) {
                int oc = block * L + l, input = 0;
                while (oc >= firstChannel[input + 1]) {
                    input++;
                }
                if (inputs.isEmpty() || inputs.getLast() != input) {
                    inputs.add(input);
                    lanes.add(new boolean[L]);
                    // Lanes this input does not fill keep offset 0: the Vector API checks the
                    // offsets of masked-off lanes too, and 0 is always inside the input.
                    indices.add(new int[L]);
                }
                int ci = oc - firstChannel[input];
                lanes.getLast()[l] = true;
                // Offset of channel ci at pixel 0 of an image: its block's plane, then its lane.
                indices.getLast()[l] = (ci / L) * pixels * L + ci % L;
            }
            sourceInput[block] = inputs.stream().mapToInt(Integer::intValue).toArray();
            sourceLanes[block] = lanes.toArray(boolean[][]::new);
            sourceIndex[block] = indices.toArray(int[][]::new);
        }
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        return node.op() instanceof Concat ? null : "not a concat";
    }

    /** The dimensions of the array a value is stored as: blocked rank 4 as [N][C/L][H][W][L]. */
    private static int[] stored(Shape s) {
        if (s.rank() != 4) {
            return s.dims();
        }
        return new int[] {s.dim(0), BlockedLayout.blocks(s.dim(1)), s.dim(2), s.dim(3), L};
    }

    private static long product(int[] dims, int from, int to) {
        long p = 1;
        for (int d = from; d < to; d++) {
            p *= dims[d];
        }
        return p;
    }

    @Override
    public String algorithm() {
        return shiftsLanes ? "channel concat at unaligned offsets: masked gathers per " + L + "-channel block"
                : "concat of stored arrays: " + runs.length + " contiguous runs per outer index";
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] y = outputs[0];
        if (shiftsLanes) {
            threads.parallelFor(batch * outBlocks, task -> assembleBlock(inputs, y, task / outBlocks, task % outBlocks));
            return;
        }
        int inputCount = runs.length;
        threads.parallelFor(outer * inputCount, task -> {
            int o = task / inputCount, input = task % inputCount;
            int offset = 0;
            for (int i = 0; i < input; i++) {
                offset += runs[i];
            }
            System.arraycopy(inputs[input], o * runs[input], y, o * outRun + offset, runs[input]);
        });
    }

    /** One output channel block of one image, lanes gathered from the inputs that hold them. */
    private void assembleBlock(float[][] inputs, float[] y, int image, int block) {
        int[] sources = sourceInput[block];
        int out = (image * outBlocks + block) * pixels * L;
        for (int p = 0; p < pixels; p++) {
            FloatVector v = FloatVector.zero(SPECIES);
            for (int s = 0; s < sources.length; s++) {
                int input = sources[s];
                int imageBase = image * inBlocks[input] * pixels * L + p * L;
                VectorMask<Float> lanes = VectorMask.fromArray(SPECIES, sourceLanes[block][s], 0);
                v = v.blend(FloatVector.fromArray(SPECIES, inputs[input], imageBase, sourceIndex[block][s], 0, lanes),
                        lanes);
            }
            v.intoArray(y, out + p * L);
        }
    }
}
