package dev.kiln.spi;

import java.util.List;

/**
 * Contributes kernels to a backend. Found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/dev.kiln.spi.KernelProvider} line): a backend's own kernels come
 * through a provider too, so a vendor's kernel and the backend's compete on equal terms.
 *
 * <p>A provider is built against one version of its backend's kernel contract (the kernel
 * interface, marked {@link KernelContract}: {@code ReferenceKernel}, {@code SimdKernel},
 * {@code ClKernel}) and says which in {@link #contractVersion()}; {@link KernelRegistry} refuses
 * it, with a message naming it, when that is not the version this Kiln's backend has.
 */
public interface KernelProvider {

    /** A name for people and {@code explain}, e.g. {@code "reference"} or a vendor's name. */
    String name();

    /** The id of the backend these kernels run in. */
    String backend();

    /**
     * The version of the backend's kernel contract these kernels were built for. Return the
     * kernel interface's constant ({@code return SimdKernel.CONTRACT_VERSION;}): the compiler
     * copies a constant into the provider's class, so a provider compiled against another Kiln
     * reports that Kiln's version, and is refused rather than run on a contract it does not know.
     */
    int contractVersion();

    List<KernelFactory<?>> kernels();

    /**
     * A provider from its parts, as {@link KernelFactory#of} makes a factory: for kernels an
     * embedder or a test adds with {@link KernelRegistry#with}. A service needs a class of its own.
     */
    static KernelProvider of(String name, String backend, int contractVersion, List<KernelFactory<?>> kernels) {
        List<KernelFactory<?>> copy = List.copyOf(kernels);
        return new KernelProvider() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String backend() {
                return backend;
            }

            @Override
            public int contractVersion() {
                return contractVersion;
            }

            @Override
            public List<KernelFactory<?>> kernels() {
                return copy;
            }

            @Override
            public String toString() {
                return "kernel provider '" + name + "' for backend '" + backend + "'";
            }
        };
    }
}
