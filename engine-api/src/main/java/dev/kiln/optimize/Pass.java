package dev.kiln.optimize;

import java.util.Optional;

/**
 * One rewrite of the graph that keeps its results: it finds every place where it applies,
 * rewrites it, and says how many rewrites it made, so the optimizer can report what it did and
 * knows when nothing is left to do.
 *
 * <p>A pass reads shapes through {@link WorkingGraph#shapes()}, where a dimension that depends
 * on an open image size is unknown: it rewrites only what holds at every size. A pass whose
 * rewrites need a concrete image size says so ({@link #needsConcreteImageSize()}), and the
 * optimizer skips it for a graph whose image size is open.
 */
public interface Pass {

    /** A stable kebab-case name for reports and the {@code explain} command. */
    String name();

    /** Rewrites the graph in place; returns the number of rewrites, 0 when nothing applied. */
    int run(WorkingGraph graph);

    /**
     * Why this pass cannot run on a graph whose image size is open (height and width known only
     * when inputs arrive), or empty when it can: its rewrites hold at every size.
     */
    default Optional<String> needsConcreteImageSize() {
        return Optional.empty();
    }
}
