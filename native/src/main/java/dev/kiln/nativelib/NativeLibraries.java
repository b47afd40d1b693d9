package dev.kiln.nativelib;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Locates shared libraries for native-backed plugins, without loading them. The search order:
 * <ol>
 *   <li>an override naming the library file, from a system property, then an environment
 *       variable (when one is set, it is the only place looked at: a user who points at a file
 *       wants that file, not a silent substitute found elsewhere);</li>
 *   <li>the copy bundled in a jar on the class path, extracted once into a versioned folder of the
 *       user's cache ({@link LibraryExtraction});</li>
 *   <li>the directories of the {@code java.library.path} system property;</li>
 *   <li>the directories of the platform's library path variable ({@code LD_LIBRARY_PATH},
 *       {@code DYLD_LIBRARY_PATH} or {@code PATH});</li>
 *   <li>the platform's usual system library directories.</li>
 * </ol>
 * Each directory is tried with every candidate file name in turn (for example a versioned
 * {@code libdnnl.so.3} before {@code libdnnl.so}).
 */
public final class NativeLibraries {
    private final Function<String, String> properties;
    private final Function<String, String> environment;
    private final String libraryPathVariable;
    private final List<Path> systemDirectories;
    private final Path cacheRoot;

    /**
     * A locator over explicit sources, for tests and for embedding applications that must not
     * read the process environment.
     *
     * @param cacheRoot where bundled libraries are extracted
     */
    public NativeLibraries(Function<String, String> properties, Function<String, String> environment,
                           String libraryPathVariable, List<Path> systemDirectories, Path cacheRoot) {
        this.properties = properties;
        this.environment = environment;
        this.libraryPathVariable = libraryPathVariable;
        this.systemDirectories = List.copyOf(systemDirectories);
        this.cacheRoot = cacheRoot;
    }

    /** A locator over this process's environment, system properties and the platform's directories. */
    public static NativeLibraries forThisProcess() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String pathVariable = os.contains("win") ? "PATH" : os.contains("mac") ? "DYLD_LIBRARY_PATH"
                : "LD_LIBRARY_PATH";
        return new NativeLibraries(System::getProperty, System::getenv, pathVariable,
                systemDirectories(os, System.getProperty("os.arch", "")),
                LibraryExtraction.defaultCacheRoot(System::getenv));
    }

    /** Where libraries usually live on this operating system and architecture. */
    static List<Path> systemDirectories(String os, String arch) {
        if (os.contains("win")) {
            return List.of(); // Windows has no fixed library directory beyond PATH.
        }
        if (os.contains("mac")) {
            return List.of(Path.of("/opt/homebrew/lib"), Path.of("/usr/local/lib"), Path.of("/usr/lib"));
        }
        List<Path> dirs = new ArrayList<>();
        dirs.add(Path.of("/usr/local/lib"));
        String multiarch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64" -> "aarch64-linux-gnu";
            default -> null;
        };
        if (multiarch != null) {
            dirs.add(Path.of("/usr/lib", multiarch));
            dirs.add(Path.of("/lib", multiarch));
        }
        dirs.add(Path.of("/usr/lib64"));
        dirs.add(Path.of("/usr/lib"));
        dirs.add(Path.of("/lib"));
        return dirs;
    }

    /** Looks for a library in every place, in the order above; the result names each place tried and why it failed. */
    public LibrarySearch find(LibraryRequest request) {
        String library = request.library();
        List<String> searched = new ArrayList<>();
        for (UserOverride override : List.of(
                new UserOverride("system property", request.overrideProperty(), properties),
                new UserOverride("environment variable", request.overrideVariable(), environment))) {
            if (override.name == null) {
                continue;
            }
            String value = override.source.apply(override.name);
            if (value == null || value.isBlank()) {
                searched.add(override.kind + " " + override.name + " (not set)");
                continue;
            }
            Path file = Path.of(value.trim());
            String place = override.kind + " " + override.name + "=" + file;
            if (Files.isRegularFile(file)) {
                return new LibrarySearch(library, Optional.of(file), List.of(place));
            }
            searched.add(place + " (set, but no such file; nothing else was searched)");
            return new LibrarySearch(library, Optional.empty(), searched);
        }
        if (request.bundled().isPresent()) {
            BundledLibrary bundled = request.bundled().get();
            try {
                return new LibrarySearch(library, Optional.of(LibraryExtraction.extract(bundled, cacheRoot)), searched);
            } catch (IOException | RuntimeException e) {
                searched.add("the copy bundled at " + bundled.folder() + " on the class path (" + e.getMessage() + ")");
            }
        }
        for (Map.Entry<Path, String> dir : directories().entrySet()) {
            for (String name : request.fileNames()) {
                Path candidate = dir.getKey().resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return new LibrarySearch(library, Optional.of(candidate), searched);
                }
            }
            searched.add(dir.getKey() + " (" + dir.getValue() + ")");
        }
        return new LibrarySearch(library, Optional.empty(), searched);
    }

    private record UserOverride(String kind, String name, Function<String, String> source) {
    }

    /** Every directory to search, in order, with where it came from; duplicates are searched once. */
    private Map<Path, String> directories() {
        Map<Path, String> dirs = new LinkedHashMap<>();
        addPathList(dirs, properties.apply("java.library.path"), "java.library.path");
        if (libraryPathVariable != null) {
            addPathList(dirs, environment.apply(libraryPathVariable), libraryPathVariable);
        }
        for (Path dir : systemDirectories) {
            dirs.putIfAbsent(dir, "system directory");
        }
        return dirs;
    }

    private static void addPathList(Map<Path, String> dirs, String pathList, String source) {
        if (pathList == null) {
            return;
        }
        for (String entry : pathList.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                dirs.putIfAbsent(Path.of(entry.trim()), source);
            }
        }
    }
}
