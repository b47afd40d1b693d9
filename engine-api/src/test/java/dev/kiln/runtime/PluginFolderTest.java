package dev.kiln.runtime;

import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plugin jars from a folder: a backend registered only in such a jar is found; a broken jar is reported, not fatal. */
class PluginFolderTest {
    @TempDir
    Path dir;

    /** Registered by no services file on the class path: only the jar the test writes names it. */
    public static final class FolderOnlyBackend implements Backend {
        @Override
        public String id() {
            return "folder-only";
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return Support.no("a test backend");
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            throw new UnsupportedOperationException();
        }
    }

    private void writeJar(String name, String services) throws IOException {
        try (OutputStream file = Files.newOutputStream(dir.resolve(name));
             JarOutputStream jar = new JarOutputStream(file)) {
            jar.putNextEntry(new JarEntry("META-INF/services/dev.kiln.spi.Backend"));
            jar.write(services.getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
    }

    @Test
    void aBackendInAPluginJarIsDiscoveredBesideTheClassPathOnes() throws IOException {
        writeJar("vendor.jar", FolderOnlyBackend.class.getName() + "\n");
        PluginFolder folder = PluginFolder.open(dir, getClass().getClassLoader());
        assertEquals(List.of(), folder.failures());
        BackendRegistry registry = BackendRegistry.discover(folder.loader(), folder.failures());
        List<String> ids = registry.entries().stream().map(BackendRegistry.Entry::id).toList();
        assertTrue(ids.contains("folder-only"), ids.toString());
        assertTrue(ids.contains("reference"), ids.toString());
        assertTrue(BackendRegistry.discover().entries().stream().noneMatch(e -> e.id().equals("folder-only")));
    }

    @Test
    void brokenJarsAndMissingClassesAreReportedNotThrown() throws IOException {
        Files.writeString(dir.resolve("broken.jar"), "not a zip");
        writeJar("missing.jar", "com.example.NoSuchBackend\n");
        PluginFolder folder = PluginFolder.open(dir, getClass().getClassLoader());
        assertEquals(1, folder.failures().size(), folder.failures().toString());
        assertTrue(folder.failures().getFirst().contains("broken.jar"), folder.failures().toString());
        BackendRegistry registry = BackendRegistry.discover(folder.loader(), folder.failures());
        assertEquals(2, registry.loadFailures().size(), registry.loadFailures().toString());
        assertTrue(registry.loadFailures().get(1).contains("com.example.NoSuchBackend"),
                registry.loadFailures().toString());
        assertTrue(registry.entries().stream().anyMatch(e -> e.id().equals("reference")));

        PluginFolder missing = PluginFolder.open(dir.resolve("nope"), getClass().getClassLoader());
        assertTrue(missing.failures().getFirst().contains("does not exist"), missing.failures().toString());
    }
}
