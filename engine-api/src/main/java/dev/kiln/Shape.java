package dev.kiln;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first (NCHW for images). A dimension of {@code -1}
 * is symbolic and appears only in graph input declarations; everything the runtime computes
 * with is concrete.
 */
public final class Shape {
    public static final int DYNAMIC = -1;

    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < DYNAMIC) {
                throw new IllegalArgumentException("negative dimension " + d + " in " + Arrays.toString(dims));
            }
        }
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int axis) {
        return dims[axis < 0 ? axis + dims.length : axis];
    }

    public int[] dims() {
        return dims.clone();
    }

    public boolean isConcrete() {
        for (int d : dims) {
            if (d == DYNAMIC) {
                return false;
            }
        }
        return true;
    }

    /** Number of elements; only for concrete shapes. */
    public long elementCount() {
        long n = 1;
        for (int d : dims) {
            if (d == DYNAMIC) {
                throw new IllegalStateException("shape " + this + " has a symbolic dimension");
            }
            n = multiply(n, d);
        }
        return n;
    }

    private long multiply(long n, int d) {
        try {
            return Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            throw new ArithmeticException("the element count of shape " + this + " passes the 64-bit range");
        }
    }

    /** Number of elements as an int, for heap kernels; fails clearly when it does not fit. */
    public int elementCountInt() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor of shape " + this + " has " + n
                    + " elements, more than a Java array holds");
        }
        return (int) n;
    }

    /** Product of dims[from, to). */
    public long product(int from, int to) {
        long n = 1;
        for (int i = from; i < to; i++) {
            n = multiply(n, dims[i]);
        }
        return n;
    }

    public Shape withDim(int axis, int value) {
        int[] d = dims.clone();
        d[axis] = value;
        return new Shape(d);
    }

    /** True when every concrete dimension of this declared shape matches {@code actual}. */
    public boolean accepts(Shape actual) {
        if (actual.rank() != rank()) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != DYNAMIC && dims[i] != actual.dims[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(dims[i] == DYNAMIC ? "?" : Integer.toString(dims[i]));
        }
        return sb.append(']').toString();
    }
}
