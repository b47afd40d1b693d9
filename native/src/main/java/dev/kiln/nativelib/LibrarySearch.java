package dev.kiln.nativelib;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of looking for a shared library: where it was found, if anywhere, and every place
 * that was looked at, in order, so that a "not found" message tells the user what to fix.
 *
 * @param library  the library as it was asked for, e.g. {@code libdnnl.so.3}
 * @param found    the file, when one was found
 * @param searched each place looked at, as a human-readable line ("/usr/lib (system directory)")
 */
public record LibrarySearch(String library, Optional<Path> found, List<String> searched) {

    public LibrarySearch {
        searched = List.copyOf(searched);
    }

    public boolean isFound() {
        return found.isPresent();
    }

    /** One line for messages: where it was found, or what was searched. */
    public String describe() {
        return found.map(path -> library + " found at " + path)
                .orElseGet(() -> library + " not found; searched: " + String.join(", ", searched));
    }

    /**
     * The library's path.
     *
     * @throws NativeLibraryNotFoundException naming the library and every place searched
     */
    public Path require() {
        return found.orElseThrow(() -> new NativeLibraryNotFoundException(describe()));
    }
}
