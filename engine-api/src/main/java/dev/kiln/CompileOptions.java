package dev.kiln;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to compile a graph: which backend ({@code auto} or an id), which of its devices (null for
 * the backend's default, else a device id, an index into its device list or a name), whether to
 * run the graph optimizer first (on by default, as every serious engine does; off to run a graph
 * exactly as written, e.g. to check the optimizer itself), placement pins, and whether to be
 * strict.
 *
 * <p>A pin sends one node, by its name in the graph that runs (the optimized one: a batch-norm or
 * activation fused into a convolution is part of that convolution's node), to one backend,
 * whatever the backend choice says for the others. A pin is a promise, not a preference: an
 * unknown node or backend, an unavailable backend, or a backend that cannot run the node is an
 * error, never a silent fallback.
 *
 * <p>Strict, a node the chosen backend cannot run, or a backend that fails to compile its part,
 * is an error instead of a fallback to another backend.
 */
public record CompileOptions(String backend, String device, boolean optimize, Map<String, String> pins,
                             boolean strict) {

    public CompileOptions {
        backend = backend == null || backend.isBlank() ? Engine.AUTO : backend.trim();
        device = device == null || device.isBlank() ? null : device.trim();
        Map<String, String> checked = new LinkedHashMap<>();
        if (pins != null) {
            pins.forEach((node, id) -> {
                if (node == null || node.isEmpty() || id == null || id.isBlank()) {
                    throw new IllegalArgumentException("a pin needs a node name and a backend id, got '" + node
                            + "' -> '" + id + "'");
                }
                if (id.trim().equals(Engine.AUTO)) {
                    throw new IllegalArgumentException("node '" + node + "' is pinned to 'auto': a pin names one"
                            + " backend");
                }
                checked.put(node, id.trim());
            });
        }
        pins = Collections.unmodifiableMap(checked);
    }

    /** Not strict. */
    public CompileOptions(String backend, String device, boolean optimize, Map<String, String> pins) {
        this(backend, device, optimize, pins, false);
    }

    /** No pins. */
    public CompileOptions(String backend, String device, boolean optimize, boolean strict) {
        this(backend, device, optimize, Map.of(), strict);
    }

    /** No pins, not strict: nodes the chosen backend cannot run fall back to another. */
    public CompileOptions(String backend, String device, boolean optimize) {
        this(backend, device, optimize, Map.of(), false);
    }

    public CompileOptions(String backend, boolean optimize) {
        this(backend, null, optimize);
    }

    /** The backend and device configured outside the code ({@link Engine#configuredBackend()}), optimized. */
    public static CompileOptions defaults() {
        return new CompileOptions(Engine.configuredBackend(), Engine.configuredDevice(), true);
    }

    public CompileOptions withBackend(String id) {
        return new CompileOptions(id, device, optimize, pins, strict);
    }

    public CompileOptions withDevice(String d) {
        return new CompileOptions(backend, d, optimize, pins, strict);
    }

    public CompileOptions withOptimize(boolean on) {
        return new CompileOptions(backend, device, on, pins, strict);
    }

    /** These options with one more pin: {@code node} runs on {@code backendId}. */
    public CompileOptions withPin(String node, String backendId) {
        Map<String, String> more = new LinkedHashMap<>(pins);
        more.put(node, backendId);
        return new CompileOptions(backend, device, optimize, more, strict);
    }

    /** These options with exactly these pins (node name to backend id). */
    public CompileOptions withPins(Map<String, String> nodeToBackend) {
        return new CompileOptions(backend, device, optimize, nodeToBackend, strict);
    }

    /**
     * Strict or not: strict, compiling a plan (at batch 1 when the model is compiled, at another
     * batch size on its first run) fails with a {@link KilnException} naming every node that would
     * run on another backend than the plan's and why, and every backend dropped. A pinned node is
     * not a fallback.
     */
    public CompileOptions withStrict(boolean on) {
        return new CompileOptions(backend, device, optimize, pins, on);
    }
}
