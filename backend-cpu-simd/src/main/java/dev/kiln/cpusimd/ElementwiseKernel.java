package dev.kiln.cpusimd;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.HostThreads;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Ops whose output element depends only on the same element of each operand: a standalone
 * activation, binary arithmetic, and inference batch-norm (y = x * scale + shift with scale and
 * shift per channel, folded from the four constants once).
 *
 * <p>Every operand is one of three kinds: streamed (the output's shape, read element by element),
 * per channel (rank 4 [N or 1, C, 1, 1]: one vector per channel block, fixed over the plane) or
 * a scalar. On NCHWc values the work is done per (image, channel block) plane, where per-channel
 * operands are one register; padding lanes of a partial block are zeroed before the store,
 * because the op may map zero to non-zero (sigmoid, x / 0). Other ranks are row-major and
 * support only streamed and scalar operands.
 */
public final class ElementwiseKernel implements SimdKernel {
    private static final VectorSpecies<Float> SPECIES = BlockedLayout.SPECIES;
    private static final int L = BlockedLayout.LANES;

    private enum Operation { ACTIVATION, BINARY, BATCH_NORM }

    private enum Kind { STREAMED, PER_CHANNEL, SCALAR }

    /**
     * Where an operand's values come from: {@code packed} for a constant (blocked if the output is),
     * else the node's input {@code input}. A per-channel operand without a batch dimension serves
     * every image.
     */
    private record Operand(Kind kind, int input, float[] packed, boolean perImage) {
        float[] array(float[][] inputs) {
            return packed != null ? packed : inputs[input];
        }
    }

    private final Operation operation;
    private final ActivationFunction activation;
    private final Binary.Kind arithmetic;
    private final Operand[] operands;
    private final boolean blocked;
    /** Blocked: the output is [batch][blocks][rows][width][L]. Plain: {@code elements} floats. */
    private final int batch, channels, blocks, rows, rowFloats;
    private final int elements;
    /** Plain batch-norm: floats per (image, channel), 1 for [N, C]. */
    private final int plainSpatial;
    private final int inPlace;

    public ElementwiseKernel(BoundNode node) {
        String unsupported = unsupportedReason(node);
        if (unsupported != null) {
            throw new IllegalArgumentException(unsupported);
        }
        Shape ys = node.outputShape();
        blocked = ys.rank() == 4;
        batch = ys.dim(0);
        channels = ys.rank() > 1 ? ys.dim(1) : 1;
        blocks = BlockedLayout.blocks(channels);
        rows = blocked ? ys.dim(2) : 1;
        rowFloats = blocked ? ys.dim(3) * L : 0;
        elements = ys.elementCountInt();
        plainSpatial = ys.rank() > 1 ? (int) ys.product(2, ys.rank()) : 1;
        switch (node.op()) {
            case Activation a -> {
                operation = Operation.ACTIVATION;
                activation = a.function();
                arithmetic = null;
                operands = new Operand[] {new Operand(Kind.STREAMED, 0, null, false)};
                inPlace = 0;
            }
            case Binary b -> {
                operation = Operation.BINARY;
                activation = null;
                arithmetic = b.kind();
                operands = new Operand[] {operand(node, 0), operand(node, 1)};
                inPlace = operands[0].kind() == Kind.STREAMED && operands[0].packed() == null ? 0
                        : operands[1].kind() == Kind.STREAMED && operands[1].packed() == null ? 1 : -1;
            }
            case BatchNormalization bn -> {
                operation = Operation.BATCH_NORM;
                activation = null;
                arithmetic = null;
                float[] scale = ChannelPacking.values(node.constant(1)), shift = ChannelPacking.values(node.constant(2));
                float[] mean = ChannelPacking.values(node.constant(3)), variance = ChannelPacking.values(node.constant(4));
                float[] folded = new float[channels];
                for (int c = 0; c < channels; c++) {
                    folded[c] = (float) (scale[c] / Math.sqrt(variance[c] + bn.epsilon()));
                    shift[c] -= mean[c] * folded[c];
                }
                operands = new Operand[] {new Operand(Kind.STREAMED, 0, null, false),
                        new Operand(Kind.PER_CHANNEL, 1, ChannelPacking.blocked(folded, channels), false),
                        new Operand(Kind.PER_CHANNEL, 2, ChannelPacking.blocked(shift, channels), false)};
                inPlace = 0;
            }
            default -> throw new IllegalArgumentException("not an elementwise op: " + node.op());
        }
    }

    /** Null when this kernel runs the node, else why not. */
    public static String unsupportedReason(BoundNode node) {
        Shape ys = node.outputShape();
        return switch (node.op()) {
            case Activation a -> null;
            case BatchNormalization b -> {
                for (int i = 1; i < 5; i++) {
                    if (!node.isConstant(i)) {
                        yield "batch-norm parameter " + i + " is not constant";
                    }
                }
                yield null;
            }
            case Binary b -> {
                Kind a = kindOf(node, 0), c = kindOf(node, 1);
                if (a == null || c == null) {
                    yield "operands " + node.inputShape(0) + " and " + node.inputShape(1)
                            + " are neither the output's shape, per channel, nor scalars";
                }
                yield a == Kind.STREAMED || c == Kind.STREAMED ? null : "no operand has the output's shape";
            }
            default -> "not an elementwise op";
        };
    }

    /** How operand {@code i} of a binary op meets the output, or null if it is none of the kinds. */
    private static Kind kindOf(BoundNode node, int i) {
        Shape s = node.inputShape(i), ys = node.outputShape();
        if (s.equals(ys)) {
            return Kind.STREAMED;
        }
        if (s.elementCount() == 1) {
            return Kind.SCALAR;
        }
        if (ys.rank() != 4) {
            return null;
        }
        boolean channelVector = s.rank() == 4 && (s.dim(0) == 1 || s.dim(0) == ys.dim(0))
                && s.dim(1) == ys.dim(1) && s.dim(2) == 1 && s.dim(3) == 1;
        // A constant [C, 1, 1] is per channel too; as a runtime value it would be row-major, not blocked.
        boolean constantChannelVector = s.rank() == 3 && node.isConstant(i)
                && s.dim(0) == ys.dim(1) && s.dim(1) == 1 && s.dim(2) == 1;
        return channelVector || constantChannelVector ? Kind.PER_CHANNEL : null;
    }

    private static Operand operand(BoundNode node, int i) {
        Kind kind = kindOf(node, i);
        Shape s = node.inputShape(i), ys = node.outputShape();
        boolean perImage = kind == Kind.PER_CHANNEL && s.rank() == 4 && s.dim(0) > 1;
        Tensor constant = node.constant(i);
        if (constant == null) {
            return new Operand(kind, i, null, perImage);
        }
        float[] values = constant.toFloatArray();
        float[] packed = values;
        if (ys.rank() == 4 && kind != Kind.SCALAR) {
            int images = kind == Kind.STREAMED || perImage ? ys.dim(0) : 1;
            int pixels = kind == Kind.STREAMED ? ys.dim(2) * ys.dim(3) : 1;
            packed = new float[(int) ((long) images * BlockedLayout.blocks(ys.dim(1)) * L * pixels)];
            BlockedLayout.fromNchw(values, packed, images, ys.dim(1), kind == Kind.STREAMED ? ys.dim(2) : 1,
                    kind == Kind.STREAMED ? ys.dim(3) : 1);
        }
        return new Operand(kind, i, packed, perImage);
    }

    @Override
    public String algorithm() {
        String what = switch (operation) {
            case ACTIVATION -> activation.toString();
            case BINARY -> arithmetic + " of " + operands[0].kind().name().toLowerCase() + " and "
                    + operands[1].kind().name().toLowerCase();
            case BATCH_NORM -> "batch-norm as per-channel FMA";
        };
        return what + (blocked ? " on " + L + "-channel vectors per plane" : " on row-major vectors");
    }

    @Override
    public int inPlaceInput() {
        return inPlace;
    }

    @Override
    public void execute(float[][] inputs, float[][] outputs, float[] scratch, HostThreads threads) {
        float[] y = outputs[0];
        if (blocked) {
            int planes = batch * blocks;
            int bands = WorkSplit.bandsPerPlane(planes, rows, threads.parallelism());
            threads.parallelFor(planes * bands, task -> {
                int plane = task / bands, band = task % bands;
                computePlane(inputs, y, plane, WorkSplit.bandStart(band, bands, rows),
                        WorkSplit.bandStart(band + 1, bands, rows));
            });
        } else if (operation == Operation.BATCH_NORM) {
            threads.parallelFor(batch, image -> batchNormRow(inputs[0], y, image));
        } else {
            int chunks = WorkSplit.chunks(elements, threads.parallelism());
            threads.parallelFor(chunks, chunk -> computeRange(inputs, y,
                    WorkSplit.chunkStart(chunk, chunks, elements), WorkSplit.chunkStart(chunk + 1, chunks, elements)));
        }
    }

    /** Rows [rowStart, rowEnd) of one (image, channel block) plane of a blocked output. */
    private void computePlane(float[][] inputs, float[] y, int plane, int rowStart, int rowEnd) {
        int image = plane / blocks, block = plane % blocks;
        VectorMask<Float> padding = SPECIES.indexInRange(block * L, channels).not();
        int from = plane * rows * rowFloats + rowStart * rowFloats;
        int to = plane * rows * rowFloats + rowEnd * rowFloats;
        float[] a = operands[0].array(inputs);
        // One loop per pairing of operand kinds, with per-channel and scalar operands in one
        // register for the plane: a vector chosen between a load and a register inside the loop
        // would make C2 box it on every iteration.
        switch (operation) {
            case ACTIVATION -> {
                VectorActivation.apply(activation, a, y, from, to - from);
                BlockedLayout.zeroPaddingLanes(y, from, to - from, Math.min(L, channels - block * L));
            }
            case BATCH_NORM -> {
                // Scale and shift are zero in the padding lanes, so no blend is needed.
                FloatVector scale = fixedVector(operands[1], operands[1].packed(), image, block);
                FloatVector shift = fixedVector(operands[2], operands[2].packed(), image, block);
                for (int p = from; p < to; p += L) {
                    FloatVector.fromArray(SPECIES, a, p).fma(scale, shift).intoArray(y, p);
                }
            }
            case BINARY -> {
                float[] b = operands[1].array(inputs);
                boolean aStreamed = operands[0].kind() == Kind.STREAMED, bStreamed = operands[1].kind() == Kind.STREAMED;
                if (aStreamed && bStreamed) {
                    for (int p = from; p < to; p += L) {
                        arithmetic(FloatVector.fromArray(SPECIES, a, p), FloatVector.fromArray(SPECIES, b, p))
                                .blend(0f, padding).intoArray(y, p);
                    }
                } else if (aStreamed) {
                    FloatVector bFixed = fixedVector(operands[1], b, image, block);
                    for (int p = from; p < to; p += L) {
                        arithmetic(FloatVector.fromArray(SPECIES, a, p), bFixed).blend(0f, padding).intoArray(y, p);
                    }
                } else {
                    FloatVector aFixed = fixedVector(operands[0], a, image, block);
                    for (int p = from; p < to; p += L) {
                        arithmetic(aFixed, FloatVector.fromArray(SPECIES, b, p)).blend(0f, padding).intoArray(y, p);
                    }
                }
            }
        }
    }

    /** A per-channel operand's vector for this plane, or a scalar operand broadcast. */
    private FloatVector fixedVector(Operand operand, float[] values, int image, int block) {
        if (operand.kind() == Kind.SCALAR) {
            return FloatVector.broadcast(SPECIES, values[0]);
        }
        int imageOffset = operand.perImage() ? image * blocks * L : 0;
        return FloatVector.fromArray(SPECIES, values, imageOffset + block * L);
    }

    /** Floats [from, to) of a row-major output; the last vector is masked to the end. */
    private void computeRange(float[][] inputs, float[] y, int from, int to) {
        float[] a = operands[0].array(inputs);
        if (operation == Operation.ACTIVATION) {
            VectorActivation.apply(activation, a, y, from, to - from);
            return;
        }
        float[] b = operands[1].array(inputs);
        boolean aStreamed = operands[0].kind() == Kind.STREAMED, bStreamed = operands[1].kind() == Kind.STREAMED;
        if (aStreamed && bStreamed) {
            for (int p = from; p < to; p += L) {
                VectorMask<Float> inRange = SPECIES.indexInRange(p, to);
                arithmetic(FloatVector.fromArray(SPECIES, a, p, inRange), FloatVector.fromArray(SPECIES, b, p, inRange))
                        .intoArray(y, p, inRange);
            }
        } else if (aStreamed) {
            FloatVector bFixed = FloatVector.broadcast(SPECIES, b[0]);
            for (int p = from; p < to; p += L) {
                VectorMask<Float> inRange = SPECIES.indexInRange(p, to);
                arithmetic(FloatVector.fromArray(SPECIES, a, p, inRange), bFixed).intoArray(y, p, inRange);
            }
        } else {
            FloatVector aFixed = FloatVector.broadcast(SPECIES, a[0]);
            for (int p = from; p < to; p += L) {
                VectorMask<Float> inRange = SPECIES.indexInRange(p, to);
                arithmetic(aFixed, FloatVector.fromArray(SPECIES, b, p, inRange)).intoArray(y, p, inRange);
            }
        }
    }

    /** Batch-norm of one image of a row-major [N, C, ...] value. */
    private void batchNormRow(float[] x, float[] y, int image) {
        float[] scale = operands[1].packed(), shift = operands[2].packed();
        int base = image * channels * plainSpatial;
        if (plainSpatial == 1) {
            // [N, C]: channels are contiguous, a vector of scales per vector of channels.
            for (int c = 0; c < channels; c += L) {
                VectorMask<Float> inRange = SPECIES.indexInRange(c, channels);
                FloatVector.fromArray(SPECIES, x, base + c, inRange)
                        .fma(FloatVector.fromArray(SPECIES, scale, c), FloatVector.fromArray(SPECIES, shift, c))
                        .intoArray(y, base + c, inRange);
            }
            return;
        }
        for (int c = 0; c < channels; c++) {
            int from = base + c * plainSpatial, to = from + plainSpatial;
            for (int p = from; p < to; p += L) {
                VectorMask<Float> inRange = SPECIES.indexInRange(p, to);
                FloatVector.fromArray(SPECIES, x, p, inRange).fma(scale[c], shift[c]).intoArray(y, p, inRange);
            }
        }
    }

    private FloatVector arithmetic(FloatVector a, FloatVector b) {
        return switch (arithmetic) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
        };
    }
}
