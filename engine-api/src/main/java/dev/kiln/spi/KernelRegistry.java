package dev.kiln.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Every kernel provider found, by backend: a kernel-based backend asks it for the best kernel
 * per node. A provider that fails to load is recorded, never fatal.
 */
public final class KernelRegistry {

    /** A registered kernel and the provider it came from. */
    public record Registered<K>(KernelFactory<K> factory, String provider) {
    }

    /** The winning kernel for a node: the factory, its provider and its priority. */
    public record Choice<K>(KernelFactory<K> factory, String provider, int priority) {
        public String kernel() {
            return factory.name();
        }

        /**
         * The factory's kernel for this node. A user's bad model cannot make a factory that
         * accepted a node throw, so a throw is the factory's bug: it is reported naming the
         * factory, its provider and the node (and the backend then fails to compile its partition).
         *
         * @throws dev.kiln.KilnException when the factory throws
         */
        public K create(BoundNode node, CompileContext context) {
            try {
                return factory.create(node, context);
            } catch (dev.kiln.KilnException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new dev.kiln.KilnException("kernel factory '" + factory.name() + "' of provider '" + provider
                        + "' failed to create its kernel for " + node.node().describe() + ": " + e, e);
            }
        }
    }

    private final List<KernelProvider> providers;
    private final List<String> loadFailures;

    public KernelRegistry(List<KernelProvider> providers) {
        this(providers, List.of());
    }

    private KernelRegistry(List<KernelProvider> providers, List<String> loadFailures) {
        this.providers = List.copyOf(providers);
        this.loadFailures = List.copyOf(loadFailures);
    }

    /** The providers on the class path of this class loader. */
    public static KernelRegistry discover() {
        return discover(KernelRegistry.class.getClassLoader());
    }

    public static KernelRegistry discover(ClassLoader loader) {
        List<KernelProvider> found = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        var iterator = ServiceLoader.load(KernelProvider.class, loader).iterator();
        while (true) {
            try {
                if (!iterator.hasNext()) {
                    break;
                }
                found.add(iterator.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(e.getMessage());
            }
        }
        return new KernelRegistry(found, failures);
    }

    /** These providers and this registry's, for a backend that adds kernels of its own (tests, embedders). */
    public KernelRegistry with(KernelProvider... extra) {
        List<KernelProvider> all = new ArrayList<>(providers);
        all.addAll(List.of(extra));
        return new KernelRegistry(all, loadFailures);
    }

    /** Every kernel of type {@code type} registered for backend {@code backend}. */
    public <K> List<Registered<K>> kernels(String backend, Class<K> type) {
        List<Registered<K>> out = new ArrayList<>();
        for (KernelProvider p : providers) {
            if (!p.backend().equals(backend)) {
                continue;
            }
            for (KernelFactory<?> f : p.kernels()) {
                if (f.kernelType() == type) {
                    @SuppressWarnings("unchecked") KernelFactory<K> typed = (KernelFactory<K>) f;
                    out.add(new Registered<>(typed, p.name()));
                }
            }
        }
        return out;
    }

    /**
     * The supported kernel with the highest priority for this node (the first registered among
     * equals), or null with every refusal appended to {@code refusals} when none runs it.
     */
    public <K> Choice<K> best(String backend, Class<K> type, BoundNode node, StringBuilder refusals) {
        Choice<K> best = null;
        for (Registered<K> r : kernels(backend, type)) {
            KernelSupport s;
            try {
                s = r.factory().supports(node);
            } catch (RuntimeException e) {
                // A factory that throws has a bug; skipping it would quietly run another kernel.
                throw new dev.kiln.KilnException("kernel factory '" + r.factory().name() + "' of provider '"
                        + r.provider() + "' for backend '" + backend + "' failed while checking "
                        + node.node().describe() + ": " + e, e);
            }
            if (s.supported()) {
                if (best == null || s.priority() > best.priority()) {
                    best = new Choice<>(r.factory(), r.provider(), s.priority());
                }
            } else if (refusals != null) {
                refusals.append(refusals.isEmpty() ? "" : "; ").append(r.factory().name()).append(": ")
                        .append(s.reason());
            }
        }
        return best;
    }

    /** Providers that failed to load, as their error messages. */
    public List<String> loadFailures() {
        return loadFailures;
    }
}
