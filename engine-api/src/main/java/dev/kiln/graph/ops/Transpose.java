package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.Arrays;
import java.util.List;

import static dev.kiln.graph.ops.Op.require;

/**
 * ONNX Transpose: output axis {@code i} is input axis {@code perm[i]}. An empty {@code perm}
 * reverses the axes (ONNX's default). PyTorch exports a bias-free {@code Linear} as a Transpose
 * of its constant weight followed by MatMul; the optimizer folds such a Transpose away.
 */
public record Transpose(int[] perm) implements Op {

    public Transpose {
        perm = perm.clone();
        boolean[] seen = new boolean[perm.length];
        for (int p : perm) {
            require(p >= 0 && p < perm.length && !seen[p], "perm " + Arrays.toString(perm)
                    + " is not a permutation of 0.." + (perm.length - 1));
            seen[p] = true;
        }
    }

    /** The permutation for an input of this rank: {@code perm}, or the reversal when it is empty. */
    public int[] permutationFor(int rank) {
        if (perm.length == 0) {
            int[] reversed = new int[rank];
            for (int i = 0; i < rank; i++) {
                reversed[i] = rank - 1 - i;
            }
            return reversed;
        }
        require(perm.length == rank, "perm " + Arrays.toString(perm) + " is for rank " + perm.length
                + ", the input has rank " + rank);
        return perm.clone();
    }

    @Override
    public int[] perm() {
        return perm.clone();
    }

    @Override
    public String type() {
        return "Transpose";
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        Shape x = in.getFirst();
        int[] p = permutationFor(x.rank());
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = x.dim(p[i]);
        }
        return List.of(Shape.of(out));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Transpose t && Arrays.equals(t.perm, perm);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(perm);
    }

    @Override
    public String toString() {
        return "Transpose" + Arrays.toString(perm);
    }
}
