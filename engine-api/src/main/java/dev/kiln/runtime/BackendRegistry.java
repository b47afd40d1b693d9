package dev.kiln.runtime;

import dev.kiln.BackendUnavailableException;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The backends found on the class path. Each one's availability is probed once, when first
 * asked for: asking for {@code reference} loads no native library and enumerates no device.
 * A backend whose provider fails to load is recorded as a load failure.
 */
public final class BackendRegistry {

    /** A discovered backend and, probed on first request, whether it can run here. */
    public static final class Entry {
        private final String id;
        private final Backend backend;
        private volatile Availability availability;

        Entry(Backend backend) {
            this.id = backend.id();
            this.backend = backend;
        }

        public String id() {
            return id;
        }

        public Backend backend() {
            return backend;
        }

        public Availability availability() {
            Availability a = availability;
            if (a == null) {
                synchronized (this) {
                    if (availability == null) {
                        availability = probe(backend);
                    }
                    a = availability;
                }
            }
            return a;
        }

        public boolean available() {
            return availability().available();
        }

        /** Whether the probe has run: for tests of laziness. */
        public boolean probed() {
            return availability != null;
        }
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final List<String> loadFailures = new ArrayList<>();

    public BackendRegistry(Iterable<Backend> backends) {
        List<Entry> found = new ArrayList<>();
        for (Backend b : backends) {
            found.add(new Entry(b));
        }
        found.sort(BY_RANK);
        for (Entry e : found) {
            entries.putIfAbsent(e.id(), e);
        }
    }

    /** Every backend on the class path of this class loader. */
    public static BackendRegistry discover() {
        return discover(BackendRegistry.class.getClassLoader(), List.of());
    }

    /**
     * Every backend {@code loader} finds (a {@link PluginFolder}'s sees the class path's too), with
     * {@code earlierFailures} (jars that could not be opened) listed first among the load failures.
     */
    public static BackendRegistry discover(ClassLoader loader, List<String> earlierFailures) {
        List<Backend> backends = new ArrayList<>();
        List<String> failures = new ArrayList<>(earlierFailures);
        var iterator = ServiceLoader.load(Backend.class, loader).iterator();
        while (true) {
            try {
                if (!iterator.hasNext()) {
                    break;
                }
                backends.add(iterator.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(e.getMessage());
            }
        }
        BackendRegistry registry = new BackendRegistry(backends);
        registry.loadFailures.addAll(failures);
        return registry;
    }

    private static Availability probe(Backend b) {
        try {
            Availability a = b.availability();
            return a == null ? Availability.unavailable("backend reported no availability") : a;
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("availability check failed: " + e);
        }
    }

    /**
     * All backends, highest rank first. Ranks are read again on each call: a backend whose rank
     * follows its devices (a GPU or a CPU behind OpenCL) knows it only once it has been probed.
     */
    public List<Entry> entries() {
        return entries.values().stream().sorted(BY_RANK).toList();
    }

    /** Available backends, highest rank first (probing each). */
    public List<Entry> available() {
        return entries.values().stream().filter(Entry::available).sorted(BY_RANK).toList();
    }

    private static final Comparator<Entry> BY_RANK =
            Comparator.comparingInt((Entry e) -> -e.backend().rank()).thenComparing(Entry::id);

    /** Providers that failed to load, as their error messages. */
    public List<String> loadFailures() {
        return List.copyOf(loadFailures);
    }

    /**
     * The backend with this id, which must be available.
     *
     * @throws BackendUnavailableException naming the known ids, or the reason it is unavailable
     */
    public Entry require(String id) {
        Entry e = entries.get(id);
        if (e == null) {
            throw new BackendUnavailableException("unknown backend '" + id + "'; known backends: "
                    + String.join(", ", entries.keySet()));
        }
        if (!e.available()) {
            throw new BackendUnavailableException("backend '" + id + "' is not available: "
                    + e.availability().reason());
        }
        return e;
    }

    /** The backend {@code auto} picks when nothing is known about the graph: the highest-ranked available one. */
    public Entry defaultChoice() {
        return available().getFirst();
    }
}
