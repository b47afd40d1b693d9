package dev.kiln.spi;

import dev.kiln.Engine;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.runtime.PluginFolder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Every {@link OpProvider} found, by ONNX domain and op type: what a model importer asks when a
 * node's op is not one of Kiln's. Found as backends are: on the class path, and in the plugin
 * folder when one is configured ({@link Engine#configuredPlugins()}, through the same class
 * loader the engine uses). A provider that fails to load, or a second provider of an op already
 * provided, is recorded in {@link #loadFailures()}, never fatal (the first one found wins).
 */
public final class OpRegistry {
    private final Map<String, OpProvider> byOp = new LinkedHashMap<>();
    private final List<String> loadFailures = new ArrayList<>();

    /** A registry of exactly these providers (tests, embedders that add ops in code). */
    public OpRegistry(List<OpProvider> providers) {
        providers.forEach(this::add);
    }

    private OpRegistry() {
    }

    /** The providers on the class path, and in the configured plugin folder if any. */
    public static OpRegistry discover() {
        Path plugins = Engine.configuredPlugins();
        if (plugins == null) {
            return discover(OpRegistry.class.getClassLoader(), List.of());
        }
        PluginFolder folder = PluginFolder.shared(plugins);
        return discover(folder.loader(), folder.failures());
    }

    /** The providers {@code loader} finds. */
    public static OpRegistry discover(ClassLoader loader, List<String> earlierFailures) {
        OpRegistry registry = new OpRegistry();
        registry.loadFailures.addAll(earlierFailures);
        var iterator = ServiceLoader.load(OpProvider.class, loader).iterator();
        while (true) {
            try {
                if (!iterator.hasNext()) {
                    break;
                }
                registry.add(iterator.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                registry.loadFailures.add(e.getMessage());
            }
        }
        return registry;
    }

    private void add(OpProvider p) {
        String key = ProvidedOp.qualifiedName(p.domain(), p.name());
        OpProvider first = byOp.putIfAbsent(key, p);
        if (first != null) {
            loadFailures.add("op " + key + " is provided twice (" + first.getClass().getName() + ", "
                    + p.getClass().getName() + "); the first is used");
        }
    }

    /** The provider of an op, or null when none provides it. */
    public OpProvider find(String domain, String name) {
        return byOp.get(ProvidedOp.qualifiedName(domain, name));
    }

    /** Every provider, in the order found. */
    public List<OpProvider> providers() {
        return List.copyOf(byOp.values());
    }

    public List<String> loadFailures() {
        return List.copyOf(loadFailures);
    }
}
