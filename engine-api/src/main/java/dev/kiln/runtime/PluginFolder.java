package dev.kiln.runtime;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Backend and kernel-provider jars from a folder outside the class path ({@code --plugins DIR},
 * {@code KILN_PLUGINS}): every {@code .jar} in it, in name order, on a class loader whose parent
 * is Kiln's, so the plugins' {@code META-INF/services} entries are found beside the class path's.
 * A folder that does not exist or a jar that cannot be opened is recorded as a failure, never
 * thrown: the engine still starts with what it has, and {@code kiln backends} says what failed.
 *
 * @param loader   the class loader to discover services with (the parent alone when no jar loaded)
 * @param jars     the jars put on it
 * @param failures one line per folder or jar that could not be used, naming it and why
 */
public record PluginFolder(ClassLoader loader, List<Path> jars, List<String> failures) {

    public PluginFolder {
        jars = List.copyOf(jars);
        failures = List.copyOf(failures);
    }

    /** Opens {@code folder}'s jars on a class loader under {@code parent}. */
    public static PluginFolder open(Path folder, ClassLoader parent) {
        List<String> failures = new ArrayList<>();
        List<Path> jars = new ArrayList<>();
        List<URL> urls = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            failures.add("plugin folder " + folder + " does not exist or is not a folder");
            return new PluginFolder(parent, jars, failures);
        }
        List<Path> candidates;
        try (Stream<Path> listing = Files.list(folder)) {
            candidates = listing.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            failures.add("plugin folder " + folder + " cannot be listed: " + e.getMessage());
            return new PluginFolder(parent, jars, failures);
        }
        for (Path jar : candidates) {
            try (JarFile ignored = new JarFile(jar.toFile())) {
                urls.add(jar.toUri().toURL());
                jars.add(jar);
            } catch (IOException | SecurityException e) {
                failures.add("plugin jar " + jar + " cannot be opened: " + e.getMessage());
            }
        }
        ClassLoader loader = urls.isEmpty() ? parent
                : new URLClassLoader("kiln-plugins", urls.toArray(URL[]::new), parent);
        return new PluginFolder(loader, jars, failures);
    }
}
