package dev.kiln.cli.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.KilnException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One self-contained report: the skeleton {@code report.html} filled with a title, the sections a
 * command's page builds, the {@code --json} data (in a {@code <script type="application/json">}),
 * uPlot and the report's own style and chart code. Nothing is fetched when the page is viewed.
 */
final class HtmlPage {
    private static final Pattern SLOT = Pattern.compile("\\{\\{([a-z_]+)}}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String kind;
    private final String title;
    private final JsonNode data;
    private final StringBuilder body = new StringBuilder();

    /**
     * @param kind  {@code bench}, {@code verify}, {@code tune} or {@code compare}: tells the chart code
     *              what the data is
     * @param data  the command's {@code --json} output, as a tree
     */
    HtmlPage(String kind, String title, JsonNode data) {
        this.kind = kind;
        this.title = title;
        this.data = data;
    }

    /** A section with a heading and markup already escaped. */
    HtmlPage section(String heading, String html) {
        body.append("<section>\n<h2>").append(Html.escape(heading)).append("</h2>\n").append(html)
                .append("</section>\n");
        return this;
    }

    /** What went wrong during the run (failed backends, dropped ones), as a list; nothing when none. */
    HtmlPage problems(List<String> problems) {
        if (problems.isEmpty()) {
            return this;
        }
        StringBuilder list = new StringBuilder("<ul class=\"problems\">\n");
        problems.forEach(p -> list.append("<li>").append(Html.escape(p)).append("</li>\n"));
        return section("Problems", list.append("</ul>\n").toString());
    }

    /** The machine and software block (see the cli's {@code Environment}), as a table. */
    HtmlPage environment(JsonNode env) {
        HtmlTable t = new HtmlTable(env, "env", "", "");
        row(t, "CPU", env.path("cpu").asText());
        row(t, "instruction sets", env.path("isa").asText());
        row(t, "cores", env.path("cores").asText());
        row(t, "memory", String.format(java.util.Locale.ROOT, "%.1f GiB",
                env.path("memory_bytes").asDouble() / (1L << 30)));
        row(t, "JDK", env.path("jdk").asText() + " (" + env.path("jvm").asText() + ")");
        StringBuilder flags = new StringBuilder();
        env.path("jvm_flags").forEach(f -> flags.append(flags.isEmpty() ? "" : " ").append(f.asText()));
        row(t, "JVM flags", flags.isEmpty() ? "(none)" : flags.toString());
        row(t, "Kiln", env.path("kiln_version").asText() + ", commit " + env.path("kiln_commit").asText());
        row(t, "host threads", env.path("threads").asText());
        HtmlTable backends = new HtmlTable(env, "env", "backend", "version", "available", "devices");
        for (JsonNode b : env.path("backends")) {
            StringBuilder devices = new StringBuilder();
            b.path("devices").forEach(d -> devices.append(devices.isEmpty() ? "" : "; ").append(d.asText()));
            backends.text(b.path("id").asText()).text(b.path("version").asText())
                    .text(b.path("available").asBoolean() ? "yes" : "no: " + b.path("reason").asText())
                    .text(devices.toString()).endRow();
        }
        return section("Environment", t.html() + backends.html());
    }

    private static void row(HtmlTable t, String name, String value) {
        t.text(name).text(value).endRow();
    }

    String html() {
        String uplotVersion = Assets.uplotVersion();
        Map<String, String> slots = Map.of(
                "title", Html.escape(title),
                "kind", kind,
                "generated", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                "body", body.toString(),
                "data", embeddable(json(data)),
                "uplot_css", Assets.uplot("uPlot.min.css"),
                "uplot_license", "uPlot " + uplotVersion + "\n" + Assets.uplot("LICENSE").replace("*/", "* /"),
                "uplot_js", scriptSafe(Assets.uplot("uPlot.iife.min.js")),
                "report_css", Assets.own("report.css"),
                "report_js", scriptSafe(Assets.own("report.js")));
        Matcher m = SLOT.matcher(Assets.own("report.html"));
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = slots.get(m.group(1));
            if (value == null) {
                throw new IllegalStateException("report.html has a slot nothing fills: " + m.group());
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    /** Writes the page; a file that cannot be written is the user's to fix, and says where. */
    void write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, html(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KilnException("cannot write the report to " + file + ": " + e, e);
        }
    }

    private static String json(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report's data as JSON", e);
        }
    }

    /**
     * JSON inside a script element: a {@code <} only occurs within strings there, where
     * {@code \u003c} means the same, and then no {@code </script>} or {@code <!--} can end it early.
     */
    private static String embeddable(String json) {
        return json.replace("<", "\\u003c");
    }

    /** Code inside a script element: {@code </script} would end it; {@code <\/script} is the same to JavaScript. */
    private static String scriptSafe(String code) {
        return code.replace("</script", "<\\/script");
    }
}
