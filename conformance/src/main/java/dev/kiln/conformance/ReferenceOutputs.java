package dev.kiln.conformance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference backend's outputs for one case, computed once by
 * {@link Conformance#referenceOutputs} and reused by {@link Conformance#check(dev.kiln.Engine,
 * String, Case, ReferenceOutputs)} when several backends are checked on the same case: a whole
 * network on the reference backend is the slow half of a check.
 */
public final class ReferenceOutputs {
    private final Case forCase;
    private final Map<String, float[]> values;

    ReferenceOutputs(Case forCase, Map<String, float[]> values) {
        this.forCase = forCase;
        this.values = new LinkedHashMap<>(values);
    }

    /** The case these outputs were computed for; they are used for no other. */
    public Case forCase() {
        return forCase;
    }

    /** The graph's output names, in order. */
    public List<String> outputNames() {
        return List.copyOf(values.keySet());
    }

    float[] values(String output) {
        float[] v = values.get(output);
        if (v == null) {
            throw new IllegalArgumentException("the reference outputs of '" + forCase.name() + "' have no output '"
                    + output + "'; they have " + values.keySet());
        }
        return v;
    }
}
