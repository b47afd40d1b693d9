package dev.kiln.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every kernel provider found, by backend: a kernel-based backend asks it for the best kernel
 * per node. A provider that fails to load is recorded, never fatal. So is one built for another
 * version of its backend's kernel contract ({@link KernelContract}): it is refused as it
 * arrives, named in {@link #loadFailures()} and in one warning ({@code System.Logger}
 * {@code dev.kiln.spi}), and none of its kernels is used.
 */
public final class KernelRegistry {
    private static final System.Logger LOG = System.getLogger("dev.kiln.spi");
    /** Refusals already warned of in this process, so that a registry per engine does not repeat them. */
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

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

    /** A registry of these providers, less those built for another kernel contract (see {@link #loadFailures()}). */
    public KernelRegistry(List<KernelProvider> providers) {
        this(providers, List.of());
    }

    private KernelRegistry(List<KernelProvider> candidates, List<String> loadFailures) {
        List<KernelProvider> accepted = new ArrayList<>();
        List<String> failures = new ArrayList<>(loadFailures);
        for (KernelProvider p : candidates) {
            String refusal;
            try {
                refusal = contractRefusal(p);
            } catch (RuntimeException | LinkageError e) {
                // A provider that cannot say who it is or what it offers is refused like one that fails to load.
                refusal = "kernel provider " + p.getClass().getName() + " failed while its kernel contract was"
                        + " checked: " + e;
            }
            if (refusal == null) {
                accepted.add(p);
            } else {
                failures.add(refusal);
                if (WARNED.add(refusal)) {
                    LOG.log(System.Logger.Level.WARNING, refusal);
                }
            }
        }
        this.providers = List.copyOf(accepted);
        this.loadFailures = List.copyOf(failures);
    }

    /**
     * Why {@code provider} cannot be used under this Kiln's kernel contracts, or null when it can:
     * it declares no version (built before contracts were versioned), or another version than a
     * kernel interface it implements kernels of. An interface with no {@link KernelContract} (a
     * test backend's own) is not versioned.
     */
    private static String contractRefusal(KernelProvider provider) {
        String who = "kernel provider '" + provider.name() + "' (" + provider.getClass().getName() + ") for backend '"
                + provider.backend() + "'";
        int declared;
        try {
            declared = provider.contractVersion();
        } catch (AbstractMethodError e) {
            return who + " declares no kernel contract version (it was built before Kiln versioned its kernel"
                    + " contracts): its kernels are not used; rebuild it against this Kiln";
        }
        for (KernelFactory<?> f : provider.kernels()) {
            KernelContract contract = f.kernelType().getAnnotation(KernelContract.class);
            if (contract != null && contract.version() != declared) {
                return who + " was built for version " + declared + " of the " + f.kernelType().getSimpleName()
                        + " kernel contract, and this Kiln has version " + contract.version()
                        + ": its kernels are not used; rebuild it against this Kiln";
            }
        }
        return null;
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

    /** Providers that failed to load or were refused for their contract version, as their messages. */
    public List<String> loadFailures() {
        return loadFailures;
    }
}
