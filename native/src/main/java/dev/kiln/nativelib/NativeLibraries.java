package dev.kiln.nativelib;

import java.io.File;
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
 *   <li>an override environment variable naming the library file (when it is set, it is the
 *       only place looked at: a user who points at a file wants that file, not a silent
 *       substitute found elsewhere);</li>
 *   <li>the directories of the {@code java.library.path} system property;</li>
 *   <li>the directories of the platform's library path variable ({@code LD_LIBRARY_PATH},
 *       {@code DYLD_LIBRARY_PATH} or {@code PATH});</li>
 *   <li>the platform's usual system library directories.</li>
 * </ol>
 * Each directory is tried with every candidate file name in turn (for example a versioned
 * {@code libdnnl.so.3} before {@code libdnnl.so}). Extraction of a library bundled in a jar is
 * still to be written; it will be one more step before the system directories.
 */
public final class NativeLibraries {
    private final Function<String, String> environment;
    private final String javaLibraryPath;
    private final String libraryPathVariable;
    private final List<Path> systemDirectories;

    /**
     * A locator over explicit sources, for tests and for embedding applications that must not
     * read the process environment.
     */
    public NativeLibraries(Function<String, String> environment, String javaLibraryPath,
                           String libraryPathVariable, List<Path> systemDirectories) {
        this.environment = environment;
        this.javaLibraryPath = javaLibraryPath == null ? "" : javaLibraryPath;
        this.libraryPathVariable = libraryPathVariable;
        this.systemDirectories = List.copyOf(systemDirectories);
    }

    /** A locator over this process's environment, system properties and the platform's directories. */
    public static NativeLibraries forThisProcess() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String pathVariable = os.contains("win") ? "PATH" : os.contains("mac") ? "DYLD_LIBRARY_PATH"
                : "LD_LIBRARY_PATH";
        return new NativeLibraries(System::getenv, System.getProperty("java.library.path"), pathVariable,
                systemDirectories(os, System.getProperty("os.arch", "")));
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

    /**
     * Looks for a library.
     *
     * @param overrideVariable an environment variable that, when set, names the library file
     *                         (e.g. {@code KILN_ONEDNN_LIBRARY}); null for none
     * @param fileNames        candidate file names, most specific first (e.g. {@code libdnnl.so.3},
     *                         {@code libdnnl.so})
     */
    public LibrarySearch find(String overrideVariable, List<String> fileNames) {
        if (fileNames.isEmpty()) {
            throw new IllegalArgumentException("no file names to look for");
        }
        String library = fileNames.getFirst();
        List<String> searched = new ArrayList<>();
        if (overrideVariable != null) {
            String override = environment.apply(overrideVariable);
            if (override != null && !override.isBlank()) {
                Path file = Path.of(override.trim());
                if (Files.isRegularFile(file)) {
                    return new LibrarySearch(library, Optional.of(file), List.of(overrideVariable + "=" + file));
                }
                searched.add(overrideVariable + "=" + file + " (set, but no such file; nothing else was searched)");
                return new LibrarySearch(library, Optional.empty(), searched);
            }
            searched.add(overrideVariable + " (not set)");
        }
        for (Map.Entry<Path, String> dir : directories().entrySet()) {
            for (String name : fileNames) {
                Path candidate = dir.getKey().resolve(name);
                if (Files.isRegularFile(candidate)) {
                    return new LibrarySearch(library, Optional.of(candidate), searched);
                }
            }
            searched.add(dir.getKey() + " (" + dir.getValue() + ")");
        }
        return new LibrarySearch(library, Optional.empty(), searched);
    }

    /** Every directory to search, in order, with where it came from; duplicates are searched once. */
    private Map<Path, String> directories() {
        Map<Path, String> dirs = new LinkedHashMap<>();
        addPathList(dirs, javaLibraryPath, "java.library.path");
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
