package dev.kiln.nativelib;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeLibrariesTest {
    private static final String OVERRIDE = "KILN_TEST_LIBRARY";
    private static final List<String> NAMES = List.of("libkilntest.so.2", "libkilntest.so");

    @TempDir
    Path root;

    private Path dir(String name) throws IOException {
        return Files.createDirectories(root.resolve(name));
    }

    private static Path touch(Path dir, String name) throws IOException {
        return Files.writeString(dir.resolve(name), "not really a library");
    }

    @Test
    void overrideVariableWinsOverEveryDirectory() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        Path chosen = touch(dir("elsewhere"), "custom-build.so");
        NativeLibraries libraries = new NativeLibraries(Map.of(OVERRIDE, chosen.toString())::get, "", null,
                List.of(system));

        LibrarySearch search = libraries.find(OVERRIDE, NAMES);

        assertEquals(chosen, search.require());
    }

    @Test
    void overrideNamingAMissingFileFailsWithoutFallingBack() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so.2");
        Path missing = root.resolve("missing.so");
        NativeLibraries libraries = new NativeLibraries(Map.of(OVERRIDE, missing.toString())::get, "", null,
                List.of(system));

        LibrarySearch search = libraries.find(OVERRIDE, NAMES);

        assertFalse(search.isFound());
        assertTrue(search.describe().contains(OVERRIDE + "=" + missing), search.describe());
        assertTrue(search.describe().contains("no such file"), search.describe());
    }

    @Test
    void searchesJavaLibraryPathThenVariableThenSystemDirectories() throws IOException {
        Path fromProperty = dir("property");
        Path fromVariable = dir("variable");
        Path system = dir("system");
        touch(fromVariable, "libkilntest.so");
        touch(system, "libkilntest.so.2");
        NativeLibraries libraries = new NativeLibraries(Map.of("LIB_PATH", fromVariable.toString())::get,
                fromProperty.toString(), "LIB_PATH", List.of(system));

        LibrarySearch search = libraries.find(OVERRIDE, NAMES);

        // The variable's directory comes before the system directory even though the system one
        // holds the more specific (versioned) name: directories are the outer loop.
        assertEquals(fromVariable.resolve("libkilntest.so"), search.require());
    }

    @Test
    void prefersTheFirstFileNameWithinOneDirectory() throws IOException {
        Path system = dir("system");
        touch(system, "libkilntest.so");
        Path versioned = touch(system, "libkilntest.so.2");
        NativeLibraries libraries = new NativeLibraries(name -> null, null, null, List.of(system));

        assertEquals(versioned, libraries.find(null, NAMES).require());
    }

    @Test
    void notFoundNamesEveryPlaceSearchedInOrder() throws IOException {
        Path first = dir("first");
        Path second = dir("second");
        Path system = dir("system");
        NativeLibraries libraries = new NativeLibraries(name -> null,
                first + File.pathSeparator + second + File.pathSeparator + first, null, List.of(system));

        LibrarySearch search = libraries.find(OVERRIDE, NAMES);

        assertEquals(List.of(OVERRIDE + " (not set)", first + " (java.library.path)",
                second + " (java.library.path)", system + " (system directory)"), search.searched());
        NativeLibraryNotFoundException e = assertThrows(NativeLibraryNotFoundException.class, search::require);
        assertTrue(e.getMessage().startsWith("libkilntest.so.2 not found; searched: "), e.getMessage());
        assertTrue(e.getMessage().contains(second.toString()), e.getMessage());
    }

    @Test
    void linuxSystemDirectoriesIncludeTheMultiarchDirectory() {
        assertTrue(NativeLibraries.systemDirectories("linux", "amd64").contains(Path.of("/usr/lib/x86_64-linux-gnu")));
        assertTrue(NativeLibraries.systemDirectories("linux", "aarch64").contains(Path.of("/usr/lib/aarch64-linux-gnu")));
        assertEquals(List.of(), NativeLibraries.systemDirectories("windows 11", "amd64"));
    }

    @Test
    void rejectsAnEmptyListOfNames() {
        NativeLibraries libraries = new NativeLibraries(name -> null, null, null, List.of());
        assertThrows(IllegalArgumentException.class, () -> libraries.find(null, List.of()));
    }
}
