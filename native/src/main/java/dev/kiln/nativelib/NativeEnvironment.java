package dev.kiln.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The C library's view of the process environment, which native libraries read when they load
 * (Java's {@link System#getenv} is a copy taken at start-up and never changes). For settings
 * a library takes only from its environment, such as an OpenMP runtime's; set them before the
 * library loads, while no other thread reads the environment natively.
 */
public final class NativeEnvironment {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Optional<MethodHandle> GETENV = function("getenv", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final Optional<MethodHandle> SETENV = function("setenv",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    private NativeEnvironment() {
    }

    private static Optional<MethodHandle> function(String name, FunctionDescriptor descriptor) {
        return LINKER.defaultLookup().find(name).map(symbol -> LINKER.downcallHandle(symbol, descriptor));
    }

    /** Whether the C library has POSIX getenv and setenv (Windows's has neither by those names). */
    public static boolean isAvailable() {
        return GETENV.isPresent() && SETENV.isPresent();
    }

    private static MethodHandle require(Optional<MethodHandle> function, String name) {
        return function.orElseThrow(() -> new UnsupportedOperationException(name
                + " is not in this platform's C library"));
    }

    /** The variable's current value in the C library's environment. */
    public static Optional<String> get(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle getenv = require(GETENV, "getenv");
            MemorySegment value = (MemorySegment) getenv.invokeExact(arena.allocateFrom(name));
            return value.equals(MemorySegment.NULL) ? Optional.empty()
                    : Optional.of(value.reinterpret(Long.MAX_VALUE).getString(0));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("getenv(" + name + ") failed", t);
        }
    }

    /** Sets the variable unless it is set already; returns whether this call set it. */
    public static boolean setIfAbsent(String name, String value) {
        if (get(name).isPresent()) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle setenv = require(SETENV, "setenv");
            int status = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
            if (status != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed with " + status);
            }
            return true;
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(" + name + ") failed", t);
        }
    }
}
