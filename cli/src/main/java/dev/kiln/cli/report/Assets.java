package dev.kiln.cli.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * What every page inlines: its skeleton, style and chart code (resources of this package) and uPlot
 * with its stylesheet and licence, which the build copies from uPlot's WebJar into this package's
 * {@code uplot/} folder (maven-dependency-plugin, with the WebJar's pom.properties for its version,
 * so that upgrading the dependency needs no code change). Read through this class's own module, they
 * are found on the class path and on the module path alike. A missing one is a packaging bug,
 * reported as such.
 */
final class Assets {
    private static final String UPLOT = "uplot/";

    private Assets() {
    }

    /** A resource beside this class: {@code report.html}, {@code report.css}, {@code report.js}. */
    static String own(String name) {
        try (InputStream in = Assets.class.getResourceAsStream(name)) {
            return read(in, Assets.class.getPackageName().replace('.', '/') + "/" + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String uplotVersion() {
        Properties p = new Properties();
        try {
            p.load(new StringReader(own(UPLOT + "pom.properties")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    /** A file of uPlot's package by its name: {@code uPlot.iife.min.js}, {@code uPlot.min.css}, {@code LICENSE}. */
    static String uplot(String file) {
        return own(UPLOT + file);
    }

    private static String read(InputStream in, String path) throws IOException {
        if (in == null) {
            throw new IllegalStateException("a resource of the HTML reports is missing: " + path
                    + " (the build copies uPlot's into " + UPLOT + ")");
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
