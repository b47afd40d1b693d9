package dev.kiln.spi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a backend's kernel interface (the {@code K} of {@link KernelFactory}) as a versioned
 * contract for kernel providers: what a kernel of that backend sees (layout, lane count, buffers
 * or device handles), what it must do, and what it may declare. The interface's Javadoc writes
 * the contract down; {@link #version()} is raised whenever a change would break a provider built
 * against the old one (a method added without a default, a layout or argument changing meaning).
 * {@link KernelRegistry} refuses a provider whose {@link KernelProvider#contractVersion()}
 * differs, naming it in {@link KernelRegistry#loadFailures()}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface KernelContract {

    /** The contract's version, from 1. */
    int version();
}
