package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/** Elementwise binary arithmetic with NumPy-style (ONNX multidirectional) broadcasting. */
public record Binary(Kind kind) implements Op {

    public enum Kind {
        ADD("Add"), SUB("Sub"), MUL("Mul"), DIV("Div"), MAX("Max"), MIN("Min");

        private final String onnxName;

        Kind(String onnxName) {
            this.onnxName = onnxName;
        }

        public float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUB -> a - b;
                case MUL -> a * b;
                case DIV -> a / b;
                case MAX -> Math.max(a, b);
                case MIN -> Math.min(a, b);
            };
        }
    }

    public static final Binary ADD = new Binary(Kind.ADD);
    public static final Binary MUL = new Binary(Kind.MUL);

    @Override
    public String type() {
        return kind.onnxName;
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        return List.of(broadcast(in.get(0), in.get(1)));
    }

    /** The broadcast shape of two shapes, aligned from the right. */
    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.rank() ? 1 : a.dim(i - (rank - a.rank()));
            int db = i < rank - b.rank() ? 1 : b.dim(i - (rank - b.rank()));
            Op.require(da == db || da == 1 || db == 1, "shapes " + a + " and " + b + " do not broadcast");
            out[i] = da == 1 ? db : da;
        }
        return Shape.of(out);
    }
}
