package dev.kiln.cli.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * What every page inlines: its skeleton, style and chart code (resources of this package) and uPlot
 * with its stylesheet and licence, read from uPlot's WebJar on the class path (whose version its own
 * Maven properties give, so that upgrading the dependency needs no code change). A missing one is a
 * packaging bug, reported as such.
 */
final class Assets {
    private static final String WEBJAR_PROPERTIES = "META-INF/maven/org.webjars.npm/uplot/pom.properties";
    private static final String WEBJAR_ROOT = "META-INF/resources/webjars/uplot/";

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
        try (InputStream in = Assets.class.getClassLoader().getResourceAsStream(WEBJAR_PROPERTIES)) {
            if (in == null) {
                throw new IllegalStateException("uPlot's WebJar (org.webjars.npm:uplot) is not on the class path: no "
                        + WEBJAR_PROPERTIES);
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    /** A file of uPlot's package, e.g. {@code dist/uPlot.iife.min.js}. */
    static String uplot(String file) {
        String path = WEBJAR_ROOT + uplotVersion() + "/" + file;
        try (InputStream in = Assets.class.getClassLoader().getResourceAsStream(path)) {
            return read(in, path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(InputStream in, String path) throws IOException {
        if (in == null) {
            throw new IllegalStateException("a resource of the HTML reports is missing from the class path: " + path);
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
