package dev.kiln.graph.ops;

import dev.kiln.Shape;

import java.util.List;

/** An op that returns its input unchanged at inference: Identity, Dropout. */
public record Passthrough(String type) implements Op {

    public static final Passthrough IDENTITY = new Passthrough("Identity");
    public static final Passthrough DROPOUT = new Passthrough("Dropout");

    @Override
    public int maxInputs() {
        // Dropout's ratio and training_mode inputs do not matter at inference.
        return type.equals("Dropout") ? 3 : 1;
    }

    /** Dropout may also name its mask, all ones at inference. */
    @Override
    public int outputCount() {
        return type.equals("Dropout") ? 2 : 1;
    }

    @Override
    public List<Shape> inferShapes(List<Shape> in) {
        return List.of(in.getFirst());
    }
}
