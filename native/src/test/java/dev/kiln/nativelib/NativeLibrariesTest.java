package dev.kiln.nativelib;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeLibrariesTest {
    private static final String PROPERTY = "kiln.test.library";
    private static final String VARIABLE = "KILN_TEST_LIBRARY";
    private static final List<String> NAMES = List.of("libkilntest.so.2", "libkilntest.so");
    private static final Function<String, String> NOTHING = name -> null;

    @TempDir
    Path root;

    private Path dir(String name) throws IOException {
        return Files.createDirectories(root.resolve(name));
    }

    private static Path touch(Path dir, String name) throws IOException {
        return Files.writeString(dir.resolve(name), "not really a library");
    }

    private NativeLibraries libraries(Function<String, String> properties, Function<String, String> environment,
                                      String pathVariable, List<Path> system) {
        return new NativeLibraries(properties, environment, pathVariable, system, root.resolve("cache"));
    }

    private static LibraryRequest request(Optional<BundledLibrary> bundled) {
        return new LibraryRequest(NAMES, PROPERTY, VARIABLE, bundled);
    }

    @Test
    void propertyWinsOverVariableAndEveryDirectory() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        Path fromProperty = touch(dir("property"), "custom-build.so");
        Path fromVariable = touch(dir("variable"), "other-build.so");
        NativeLibraries libraries = libraries(Map.of(PROPERTY, fromProperty.toString())::get,
                Map.of(VARIABLE, fromVariable.toString())::get, null, List.of(system));

        assertEquals(fromProperty, libraries.find(request(Optional.empty())).require());
    }

    @Test
    void variableWinsOverEveryDirectory() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        Path chosen = touch(dir("elsewhere"), "custom-build.so");
        NativeLibraries libraries = libraries(NOTHING, Map.of(VARIABLE, chosen.toString())::get, null,
                List.of(system));

        LibrarySearch search = libraries.find(request(Optional.empty()));

        assertEquals(chosen, search.require());
    }

    @Test
    void overrideNamingAMissingFileFailsWithoutFallingBack() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        Path missing = root.resolve("missing.so");
        NativeLibraries libraries = libraries(NOTHING, Map.of(VARIABLE, missing.toString())::get, null,
                List.of(system));

        LibrarySearch search = libraries.find(request(Optional.empty()));

        assertFalse(search.isFound());
        assertTrue(search.describe().contains(VARIABLE + "=" + missing), search.describe());
        assertTrue(search.describe().contains("no such file"), search.describe());
    }

    @Test
    void searchesJavaLibraryPathThenVariableThenSystemDirectories() throws IOException {
        Path fromProperty = dir("property");
        Path fromVariable = dir("variable");
        Path system = dir("system");
        touch(fromVariable, "libkilntest.so");
        touch(system, "libkilntest.so.2");
        NativeLibraries libraries = libraries(Map.of("java.library.path", fromProperty.toString())::get,
                Map.of("LIB_PATH", fromVariable.toString())::get, "LIB_PATH", List.of(system));

        LibrarySearch search = libraries.find(request(Optional.empty()));

        // The variable's directory comes before the system directory even though the system one
        // holds the more specific (versioned) name: directories are the outer loop.
        assertEquals(fromVariable.resolve("libkilntest.so"), search.require());
    }

    @Test
    void prefersTheFirstFileNameWithinOneDirectory() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so");
        Path versioned = touch(system, "libkilntest.so.2");

        assertEquals(versioned, libraries(NOTHING, NOTHING, null, List.of(system))
                .find(new LibraryRequest(NAMES, null, null, Optional.empty())).require());
    }

    @Test
    void notFoundNamesEveryPlaceSearchedInOrder() throws IOException {
        Path first = dir("first");
        Path second = dir("second");
        Path system = dir("system");
        NativeLibraries libraries = libraries(Map.of("java.library.path",
                first + File.pathSeparator + second + File.pathSeparator + first)::get, NOTHING, null, List.of(system));

        LibrarySearch search = libraries.find(request(Optional.of(bundle("missing-folder", "v1"))));

        assertEquals(List.of("system property " + PROPERTY + " (not set)", "environment variable " + VARIABLE
                        + " (not set)",
                "the copy bundled at missing-folder on the class path (resource missing-folder/libkilntest.so.2 is"
                        + " not on the class path)",
                first + " (java.library.path)", second + " (java.library.path)", system + " (system directory)"),
                search.searched());
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, search::require);
        assertTrue(e.getMessage().startsWith("libkilntest.so.2 not found; searched: "), e.getMessage());
        assertTrue(e.getMessage().contains(second.toString()), e.getMessage());
    }

    // ---- the copy bundled in a jar

    private final List<URLClassLoader> loaders = new ArrayList<>();

    @AfterEach
    void closeLoaders() throws IOException {
        for (URLClassLoader loader : loaders) {
            loader.close();
        }
    }

    /** A jar holding {@code lib/libkilntest.so.2} and its neighbour {@code lib/libhelper.so}, and a loader over it. */
    private BundledLibrary bundle(String folder, String version) throws IOException {
        Path jar = root.resolve("bundle-" + version + ".jar");
        if (!Files.exists(jar)) {
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
                out.putNextEntry(new JarEntry("lib/libkilntest.so.2"));
                out.write(library(version));
                out.closeEntry();
                out.putNextEntry(new JarEntry("lib/libhelper.so"));
                out.write("helper".getBytes());
                out.closeEntry();
            }
        }
        URLClassLoader loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, null);
        loaders.add(loader);
        return new BundledLibrary(loader, folder, "kilntest-" + version, List.of("libkilntest.so.2", "libhelper.so"));
    }

    private static byte[] library(String version) {
        return ("library build " + version + " ").repeat(1000).getBytes();
    }

    @Test
    void extractsTheBundledCopyWithItsNeighboursIntoAVersionedCacheFolder() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        NativeLibraries libraries = libraries(NOTHING, NOTHING, null, List.of(system));

        Path found = libraries.find(request(Optional.of(bundle("lib", "v1")))).require();

        assertEquals(root.resolve("cache").resolve("kilntest-v1").resolve("libkilntest.so.2"), found);
        assertArrayEquals(library("v1"), Files.readAllBytes(found));
        assertEquals("helper", Files.readString(found.resolveSibling("libhelper.so")));
        // An upgrade goes into a folder of its own.
        Path upgraded = libraries.find(request(Optional.of(bundle("lib", "v2")))).require();
        assertEquals("kilntest-v2", upgraded.getParent().getFileName().toString());
        assertArrayEquals(library("v1"), Files.readAllBytes(found));
    }

    @Test
    void reusesAnExtractionOfTheRightSizeAndRedoesATruncatedOne() throws IOException {
        NativeLibraries libraries = libraries(NOTHING, NOTHING, null, List.of());
        Path found = libraries.find(request(Optional.of(bundle("lib", "v1")))).require();
        long written = Files.getLastModifiedTime(found).toMillis();
        Files.setLastModifiedTime(found, java.nio.file.attribute.FileTime.fromMillis(written - 60_000));

        libraries.find(request(Optional.of(bundle("lib", "v1")))).require();
        assertEquals(written - 60_000, Files.getLastModifiedTime(found).toMillis(), "reused, not rewritten");

        Files.write(found, new byte[100]); // a cut-short extraction
        libraries.find(request(Optional.of(bundle("lib", "v1")))).require();
        assertArrayEquals(library("v1"), Files.readAllBytes(found));
    }

    @Test
    void concurrentExtractionsLeaveOneCompleteCopyAndNoTemporaryFiles() throws Exception {
        NativeLibraries libraries = libraries(NOTHING, NOTHING, null, List.of());
        BundledLibrary bundled = bundle("lib", "v1");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Callable<Path> extract = () -> libraries.find(request(Optional.of(bundled))).require();
                results.add(pool.submit(extract));
            }
            for (Future<Path> result : results) {
                assertArrayEquals(library("v1"), Files.readAllBytes(result.get()));
            }
        } finally {
            pool.shutdown();
        }
        try (var files = Files.list(root.resolve("cache").resolve("kilntest-v1"))) {
            assertEquals(List.of("libhelper.so", "libkilntest.so.2"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void bundledCopyComesAfterAnOverride() throws IOException {
        Path chosen = touch(dir("elsewhere"), "custom-build.so");
        NativeLibraries libraries = libraries(NOTHING, Map.of(VARIABLE, chosen.toString())::get, null, List.of());

        assertEquals(chosen, libraries.find(request(Optional.of(bundle("lib", "v1")))).require());
    }

    @Test
    void linuxSystemDirectoriesIncludeTheMultiarchDirectory() {
        assertTrue(NativeLibraries.systemDirectories("linux", "amd64").contains(Path.of("/usr/lib/x86_64-linux-gnu")));
        assertTrue(NativeLibraries.systemDirectories("linux", "aarch64").contains(Path.of("/usr/lib/aarch64-linux-gnu")));
        assertEquals(List.of(), NativeLibraries.systemDirectories("windows 11", "amd64"));
    }

    @Test
    void rejectsAnEmptyListOfNamesAndAPathAsCacheKey() {
        assertThrows(IllegalArgumentException.class, () -> new LibraryRequest(List.of(), null, null,
                Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new BundledLibrary(getClass().getClassLoader(), "lib",
                "../escape", List.of("a.so")));
    }
}
