package dev.kiln;

import java.util.Locale;

/**
 * How {@code auto} chooses a backend for a model at an input shape (an explicit backend always
 * wins over any policy). The reference backend is a candidate only when no other backend runs the
 * whole graph.
 */
public enum SelectionPolicy {
    /** The highest-ranked available backend that runs every node: fixed, free, and often not the fastest. */
    RANK,
    /**
     * The tuning cache's answer for this model, shape and machine; on a miss, compile and time
     * every candidate within the selection budget, keep the fastest by median and remember it.
     */
    MEASURED,
    /** The tuning cache's answer, else the rank rule: never measures (a service's request path). */
    CACHED,
    /**
     * Measures even when the cache has an answer (what {@code kiln tune} does); the cached winner
     * stays unless another candidate beats it by more than 5%, so near-equal backends do not flap.
     */
    REMEASURE;

    /** The lower-case name used by {@code --select} and {@code KILN_SELECT}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws InvalidSettingException naming {@code where} the text came from and the choices
     */
    public static SelectionPolicy parse(String text, String where) {
        for (SelectionPolicy p : values()) {
            if (p.label().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new InvalidSettingException(where + " must be one of rank, measured, cached, remeasure; got '" + text + "'");
    }
}
