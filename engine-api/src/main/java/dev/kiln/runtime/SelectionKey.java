package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.cache.CacheKey;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.selection.HostFingerprint;
import dev.kiln.spi.Backend;

import java.util.List;
import java.util.Map;

/**
 * The tuning cache key of a selection: everything a measured winner depends on. The graph counts
 * by its structure and shapes (ops with their attributes, value names, the weights' shapes) and
 * not by its weights' values, which do not change a dense kernel's speed: a fine-tuned copy of a
 * network reuses the answer.
 */
public final class SelectionKey {
    private SelectionKey() {
    }

    /**
     * @param backends every discovered backend, available or not: their ids and versions are
     *                 known without probing them, so a lookup loads no native library. Which of
     *                 them were candidates, and on which device, is part of the stored answer, and a
     *                 hit checks its winner's device.
     */
    public static CacheKey of(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                              HostFingerprint host) {
        return of(graph, inputShapes, backends, threads, host, Map.of());
    }

    /** @param pins the caller's placement pins: a selection under pins is another question, so another key */
    static CacheKey of(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                       HostFingerprint host, Map<String, String> pins) {
        CacheKey key = keyOf(graph, inputShapes, backends, threads, host);
        if (pins.isEmpty()) {
            return key; // the key of a selection without pins stays what it was
        }
        StringBuilder text = new StringBuilder();
        new java.util.TreeMap<>(pins).forEach((node, id) -> text.append(text.isEmpty() ? "" : ";").append(node)
                .append("->").append(id));
        return key.with("pins", CacheKey.fingerprint(text.toString()).substring(0, 16));
    }

    private static CacheKey keyOf(Graph graph, Map<String, Shape> inputShapes, List<Backend> backends, int threads,
                                  HostFingerprint host) {
        StringBuilder backendText = new StringBuilder();
        for (Backend b : backends) {
            backendText.append(backendText.isEmpty() ? "" : ",").append(b.id()).append('@').append(b.version());
        }
        return CacheKey.of()
                .with("graph", graph.name() + "#" + structureHash(graph))
                .with("inputs", inputText(graph, inputShapes))
                .with("backends", backendText.toString())
                .with("threads", Integer.toString(threads))
                .with("cpu", host.cpu())
                .with("isa", host.isa())
                .with("jdk", host.jdk())
                .with("kiln", host.kiln());
    }

    static String inputText(Graph graph, Map<String, Shape> inputShapes) {
        StringBuilder text = new StringBuilder();
        for (ValueInfo v : graph.inputs()) {
            text.append(text.isEmpty() ? "" : ",").append(v.name()).append(inputShapes.get(v.name()));
        }
        return text.toString();
    }

    /** A hash ({@link CacheKey#fingerprint}) of the nodes (op and attributes, inputs, outputs), inputs, outputs and weight shapes. */
    static String structureHash(Graph graph) {
        StringBuilder text = new StringBuilder();
        for (ValueInfo v : graph.inputs()) {
            text.append("input ").append(v.name()).append(' ').append(v.shape()).append('\n');
        }
        new java.util.TreeMap<>(graph.initializers()).forEach((name, t) -> text.append("weight ").append(name).append(' ')
                .append(t.shape()).append('\n'));
        for (Node n : graph.nodes()) {
            text.append("node ").append(n.name()).append(' ');
            describe(n.op(), text);
            text.append(' ').append(n.inputs()).append(" -> ").append(n.outputs()).append('\n');
        }
        text.append("outputs ").append(graph.outputs()).append('\n');
        return CacheKey.fingerprint(text.toString()).substring(0, 16);
    }

    /**
     * An op's text: a record by its type and its components' fields, in declaration order, so a
     * component added to an op counts without anyone remembering to. Not the records' own
     * {@code toString}: each record type's first one is bootstrapped through method handles, and
     * in a fresh JVM that cost 40-170 ms of a warm start (a model has ten or so op and attribute
     * types), where reading the fields costs 10-30.
     */
    static void describe(Object value, StringBuilder text) {
        // instanceof, not a type switch: that too is bootstrapped through method handles
        if (value == null) {
            text.append("null");
        } else if (value instanceof String || value instanceof Number || value instanceof Boolean
                || value instanceof Character) {
            text.append(value);
        } else if (value instanceof Enum<?> e) {
            text.append(e.name());
        } else if (value instanceof int[] a) {
            text.append(java.util.Arrays.toString(a));
        } else if (value instanceof long[] a) {
            text.append(java.util.Arrays.toString(a));
        } else if (value instanceof float[] a) {
            text.append(java.util.Arrays.toString(a));
        } else if (value instanceof double[] a) {
            text.append(java.util.Arrays.toString(a));
        } else if (value instanceof Object[] a) {
            describeAll(java.util.Arrays.asList(a), text);
        } else if (value instanceof java.util.Collection<?> c) {
            describeAll(c, text);
        } else if (value instanceof Record r) {
            describeRecord(r, text);
        } else {
            // Another class (a shape, a provided op's attributes, a plugin's provider) by its text,
            // less any identity hash code ("Provider@1b6d3586" would differ per process).
            text.append(withoutIdentityHash(value.toString()));
        }
    }

    private static final java.util.regex.Pattern IDENTITY_HASH = java.util.regex.Pattern.compile("@[0-9a-f]+");

    private static void describeAll(Iterable<?> values, StringBuilder text) {
        text.append('[');
        boolean first = true;
        for (Object v : values) {
            text.append(first ? "" : ", ");
            describe(v, text);
            first = false;
        }
        text.append(']');
    }

    private static void describeRecord(Record r, StringBuilder text) {
        Class<?> type = r.getClass();
        java.lang.reflect.RecordComponent[] components = type.getRecordComponents();
        Object[] values = new Object[components.length];
        try {
            for (int i = 0; i < components.length; i++) {
                java.lang.reflect.Field f = type.getDeclaredField(components[i].getName());
                f.setAccessible(true);
                values[i] = f.get(r);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // a record of a module that does not open its fields to Kiln: its own text
            text.append(withoutIdentityHash(r.toString()));
            return;
        }
        text.append(type.getSimpleName()).append('[');
        for (int i = 0; i < components.length; i++) {
            text.append(i == 0 ? "" : ", ").append(components[i].getName()).append('=');
            describe(values[i], text);
        }
        text.append(']');
    }

    private static String withoutIdentityHash(String s) {
        return s.indexOf('@') < 0 ? s : IDENTITY_HASH.matcher(s).replaceAll("@");
    }
}
