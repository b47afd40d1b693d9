package dev.kiln.models.onnx;

import java.util.Arrays;
import java.util.List;

/**
 * A small integer tensor evaluated during import: a constant, or a shape computed by
 * Shape, Gather, Unsqueeze, Concat and the like, whose elements may stand for a dimension of a
 * graph value that is only known at run time (a symbolic batch). PyTorch exports
 * {@code x.view(x.size(0), -1)} this way; Kiln's Reshape then copies that dimension.
 */
record IntTensor(int[] dims, List<Element> elements) {

    /** One element: a known number, or dimension {@code axis} of the Kiln value {@code value}. */
    sealed interface Element {
    }

    record Known(long value) implements Element {
        @Override
        public String toString() {
            return Long.toString(value);
        }
    }

    record DimOf(String value, int axis) implements Element {
        @Override
        public String toString() {
            return value + ".shape[" + axis + "]";
        }
    }

    IntTensor {
        dims = dims.clone();
        elements = List.copyOf(elements);
    }

    static IntTensor of(int[] dims, long... values) {
        return new IntTensor(dims, Arrays.stream(values).mapToObj(v -> (Element) new Known(v)).toList());
    }

    static IntTensor vector(List<Element> elements) {
        return new IntTensor(new int[] {elements.size()}, elements);
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    int rank() {
        return dims.length;
    }

    int size() {
        return elements.size();
    }

    boolean isKnown() {
        return elements.stream().allMatch(e -> e instanceof Known);
    }

    /** The values; only when every element is known. */
    long[] values() {
        long[] values = new long[elements.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(elements.get(i) instanceof Known k)) {
                throw new IllegalStateException("element " + i + " of " + this + " is not known at import time");
            }
            values[i] = k.value();
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IntTensor t && Arrays.equals(t.dims, dims) && t.elements.equals(elements);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims) * 31 + elements.hashCode();
    }

    @Override
    public String toString() {
        return elements.toString();
    }
}
