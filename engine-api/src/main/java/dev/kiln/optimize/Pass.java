package dev.kiln.optimize;

/**
 * One rewrite of the graph that keeps its results: it finds every place where it applies,
 * rewrites it, and says how many rewrites it made, so the optimizer can report what it did and
 * knows when nothing is left to do.
 */
public interface Pass {

    /** A stable kebab-case name for reports and the {@code explain} command. */
    String name();

    /** Rewrites the graph in place; returns the number of rewrites, 0 when nothing applied. */
    int run(WorkingGraph graph);
}
