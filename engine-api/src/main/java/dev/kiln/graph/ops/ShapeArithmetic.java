package dev.kiln.graph.ops;

/**
 * The one home of shape arithmetic: sliding-window output sizes, ONNX's SAME padding, padded
 * extents and products of dimensions, all in exact 64-bit math with explicit range checks. The
 * IR's shape rules, the ONNX importer and the backends' size computations go through it, so a
 * model file whose numbers overflow fails here, when its shapes are inferred, with the values
 * named, and never later inside a kernel.
 *
 * <p>Every padded extent a window slides over is at most {@link #MAX_EXTENT}: kernels index with
 * {@code int}s such as {@code out * stride - pad + k * dilation}, and with every term bounded by
 * the padded extent those sums cannot overflow.
 */
public final class ShapeArithmetic {
    /** The largest padded input extent (input plus both pads) of a window axis: 2^30. */
    public static final long MAX_EXTENT = 1L << 30;

    private ShapeArithmetic() {
    }

    /**
     * Output size of one window axis, as ONNX and PyTorch define it; in ceil mode the last
     * window must start inside the input or its leading padding.
     *
     * @param axis what the axis is called in messages ("height", "width")
     * @throws ShapeArithmeticException when the padded extent passes {@link #MAX_EXTENT} or the
     *                                  dilated window does not fit the padded input
     */
    public static int windowOutputSize(String axis, long in, long kernel, long stride, long padBegin, long padEnd,
                                       long dilation, boolean ceilMode) {
        requirePositive(axis + " kernel", kernel);
        requirePositive(axis + " stride", stride);
        requirePositive(axis + " dilation", dilation);
        long padded = paddedExtent(axis, in, padBegin, padEnd);
        long span = effectiveKernel(axis, kernel, dilation);
        if (span > padded) {
            throw new ShapeArithmeticException("window " + axis + " " + kernel + " with dilation " + dilation
                    + " spans " + span + ", which does not fit an input " + axis + " of " + in + " with pads "
                    + padBegin + "+" + padEnd);
        }
        long room = padded - span;
        long out = (ceilMode ? Math.ceilDiv(room, stride) : room / stride) + 1;
        if (ceilMode && (out - 1) * stride >= in + padBegin) {
            out--;
        }
        return (int) out; // at most padded <= MAX_EXTENT
    }

    /**
     * Total padding of one axis under ONNX's {@code SAME_UPPER}/{@code SAME_LOWER}: the output is
     * {@code ceil(in / stride)} and the pads make the last window end at the padded input's end.
     * A stride larger than the input gives one window and only the pads that window needs.
     */
    public static int samePadding(String axis, long in, long kernel, long stride, long dilation) {
        requirePositive(axis + " stride", stride);
        long out = Math.ceilDiv(in, stride);
        long span = effectiveKernel(axis, kernel, dilation);
        long total = Math.max(0, (out - 1) * stride + span - in);
        if (total > MAX_EXTENT) {
            throw new ShapeArithmeticException("SAME padding of " + axis + " would be " + total + " (input " + in
                    + ", kernel " + kernel + ", stride " + stride + ", dilation " + dilation
                    + "), more than the largest extent Kiln computes with, " + MAX_EXTENT);
        }
        return (int) total;
    }

    /** Input plus both pads of one axis, at most {@link #MAX_EXTENT}. */
    public static int paddedExtent(String axis, long in, long padBegin, long padEnd) {
        if (in < 0 || padBegin < 0 || padEnd < 0) {
            throw new ShapeArithmeticException(axis + " " + in + " with pads " + padBegin + "+" + padEnd
                    + " has a negative term");
        }
        long padded = in + padBegin + padEnd; // each term below 2^31: no overflow
        if (padded > MAX_EXTENT) {
            throw new ShapeArithmeticException("input " + axis + " " + in + " with pads " + padBegin + "+" + padEnd
                    + " is " + padded + ", more than the largest extent Kiln computes with, " + MAX_EXTENT);
        }
        return (int) padded;
    }

    /** {@code (kernel - 1) * dilation + 1}: the extent a dilated kernel covers. */
    public static long effectiveKernel(String axis, long kernel, long dilation) {
        requirePositive(axis + " kernel", kernel);
        requirePositive(axis + " dilation", dilation);
        return Math.addExact(Math.multiplyExact(kernel - 1, dilation), 1);
    }

    /** The product of these factors, each non-negative. */
    public static long product(String what, long... factors) {
        long p = 1;
        for (long f : factors) {
            if (f < 0) {
                throw new ShapeArithmeticException(what + ": negative factor " + f);
            }
            try {
                p = Math.multiplyExact(p, f);
            } catch (ArithmeticException e) {
                throw new ShapeArithmeticException(what + ": the product of " + java.util.Arrays.toString(factors)
                        + " passes the 64-bit range");
            }
        }
        return p;
    }

    /**
     * The product of these factors as an {@code int}, for sizes and offsets of heap arrays.
     *
     * @throws ShapeArithmeticException naming {@code what} when it passes what a Java array holds
     */
    public static int intProduct(String what, long... factors) {
        long p = product(what, factors);
        if (p > Integer.MAX_VALUE - 8) {
            throw new ShapeArithmeticException(what + " is " + p + " elements, more than a Java array holds");
        }
        return (int) p;
    }

    /**
     * A dimension computed from others (a concatenation's sum, a padded size, an inferred
     * reshape dimension), which must fit a shape's {@code int}.
     */
    public static int dimension(String what, long value) {
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw new ShapeArithmeticException(what + " would be " + value + ", outside the range of a dimension");
        }
        return (int) value;
    }

    private static void requirePositive(String what, long value) {
        if (value <= 0) {
            throw new ShapeArithmeticException(what + " must be positive, got " + value);
        }
    }
}
