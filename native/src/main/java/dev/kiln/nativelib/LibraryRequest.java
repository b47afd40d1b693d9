package dev.kiln.nativelib;

import java.util.List;
import java.util.Optional;

/**
 * What a plugin looks for: a shared library's file names, where a user may point at a build of
 * their own, and the copy the plugin's jars carry, if any.
 *
 * @param fileNames        candidate file names, most specific first (e.g. {@code libdnnl.so.3}, {@code libdnnl.so})
 * @param overrideProperty a system property naming the library file (e.g. {@code kiln.onednn.library}); null for none
 * @param overrideVariable an environment variable naming the library file (e.g. {@code KILN_ONEDNN_LIBRARY}); null for none
 * @param bundled          the copy inside a jar on the class path
 */
public record LibraryRequest(List<String> fileNames, String overrideProperty, String overrideVariable,
                             Optional<BundledLibrary> bundled) {

    public LibraryRequest {
        fileNames = List.copyOf(fileNames);
        if (fileNames.isEmpty()) {
            throw new IllegalArgumentException("no file names to look for");
        }
    }

    /** The library as people call it: its most specific file name. */
    public String library() {
        return fileNames.getFirst();
    }
}
