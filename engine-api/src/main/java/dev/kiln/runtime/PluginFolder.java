package dev.kiln.runtime;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

    /** Folders opened by {@link #shared}, by their path and the jars seen in them (name, size, time). */
    private static final Map<String, PluginFolder> SHARED = new ConcurrentHashMap<>();

    /**
     * The folder's jars on one class loader under Kiln's for the whole process while the jars stay
     * as they are: backends, kernel providers and op providers of one jar then share its classes
     * (a backend may test for its vendor's op provider class), however many engines and imports
     * read the folder. A jar added, removed or rewritten opens the folder anew.
     */
    public static PluginFolder shared(Path folder) {
        return SHARED.computeIfAbsent(fingerprint(folder), k -> open(folder, PluginFolder.class.getClassLoader()));
    }

    private static String fingerprint(Path folder) {
        StringBuilder key = new StringBuilder(folder.toAbsolutePath().normalize().toString());
        try (Stream<Path> listing = Files.list(folder)) {
            for (Path jar : listing.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                key.append('\n').append(jar.getFileName()).append(' ').append(Files.size(jar)).append(' ')
                        .append(Files.getLastModifiedTime(jar).toMillis());
            }
        } catch (IOException | RuntimeException e) {
            key.append("\nunreadable");
        }
        return key.toString();
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
