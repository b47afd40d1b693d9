package dev.kiln.spi;

import java.util.List;

/**
 * Contributes kernels to a backend. Found with {@link java.util.ServiceLoader} (a
 * {@code META-INF/services/dev.kiln.spi.KernelProvider} line): a backend's own kernels come
 * through a provider too, so a vendor's kernel and the backend's compete on equal terms.
 */
public interface KernelProvider {

    /** A name for people and {@code explain}, e.g. {@code "reference"} or a vendor's name. */
    String name();

    /** The id of the backend these kernels run in. */
    String backend();

    List<KernelFactory<?>> kernels();
}
