package dev.kiln.cli;

import dev.kiln.CompileOptions;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --pin NODE=BACKEND}, repeatable: runs one node of the optimized graph (as {@code kiln
 * explain} names it) on one backend, whatever the others run on. A command mixes it in and adds
 * the pins to its {@link CompileOptions}; the engine rejects an unknown node or backend, and a
 * backend that cannot run its node, by name.
 */
final class PinOption {

    @Option(names = "--pin", paramLabel = "NODE=BACKEND",
            description = "Run this node (its name in 'kiln explain') on this backend; repeatable. An unknown node"
                    + " or backend, or a backend that cannot run the node, is an error.")
    Map<String, String> pins = new LinkedHashMap<>();

    CompileOptions applyTo(CompileOptions options) {
        return pins.isEmpty() ? options : options.withPins(pins);
    }
}
