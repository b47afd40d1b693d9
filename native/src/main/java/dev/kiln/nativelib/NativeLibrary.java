package dev.kiln.nativelib;

import dev.kiln.KilnException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A shared library opened for the process's lifetime, and downcall handles to its functions.
 * Failures name the file and the symbol, so "missing library" and "wrong version" read differently.
 */
public final class NativeLibrary {
    private final Path file;
    private final SymbolLookup symbols;
    private final Linker linker = Linker.nativeLinker();

    private NativeLibrary(Path file, SymbolLookup symbols) {
        this.file = file;
        this.symbols = symbols;
    }

    /**
     * Opens a library. Libraries stay loaded until the process ends, as the dynamic linker cannot
     * safely unload code that may still run on a native thread.
     *
     * @throws KilnException naming the file and the loader's reason
     */
    public static NativeLibrary open(Path file) {
        try {
            return new NativeLibrary(file, SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new KilnException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /** A handle to {@code name}, or an exception naming the function and the library. */
    public MethodHandle function(String name, FunctionDescriptor descriptor) {
        return linker.downcallHandle(symbols.find(name).orElseThrow(() -> new KilnException(
                "function " + name + " not found in " + file + " (an older or different build of the library?)")),
                descriptor);
    }

    /** Where symbol {@code name} resolves from this library (itself or the libraries it loaded), if anywhere. */
    public Optional<MemorySegment> address(String name) {
        return symbols.find(name);
    }

    public Path file() {
        return file;
    }
}
