package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Headless Chromium, driven through Debian's chromedriver (never one downloaded: the paths are
 * given, so Selenium Manager is not asked), opening Kiln's HTML reports and checking what a
 * reader would see: no console error, every chart drawn, every number equal to the JSON it names.
 * Missing browser or driver is a failure, not a skip: {@code scripts/prepare-test-fixtures.sh}
 * installs them.
 */
final class ReportBrowser implements AutoCloseable {
    static final String CHROMEDRIVER = System.getProperty("kiln.test.chromedriver", "/usr/bin/chromedriver");
    static final String CHROMIUM = System.getProperty("kiln.test.chromium", "/usr/bin/chromium");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SCIENTIFIC = Pattern.compile("-?\\d\\.(\\d+)e[+-]\\d+");
    private static final Pattern DECIMAL = Pattern.compile("-?\\d+(\\.(\\d+))?");

    private final ChromeDriver driver;

    ReportBrowser() {
        for (String file : List.of(CHROMEDRIVER, CHROMIUM)) {
            if (!Files.isExecutable(Path.of(file))) {
                fail(file + " is missing: the report tests need Debian's chromium and chromium-driver"
                        + " (scripts/prepare-test-fixtures.sh installs them)");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        // --no-sandbox: Chromium refuses to run as root with its sandbox, as CI machines run.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,2600", "--force-device-scale-factor=1");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
    }

    /** What one opened report showed. */
    record Page(String kind, double loadMillis, int numbers, int charts) {
    }

    /**
     * Opens a report and checks it against {@code expected}, the {@code --json} output of the same
     * invocation: the embedded data is that JSON, every number shown names a value of it and shows
     * it at the precision shown, every table number has such a name, each of the {@code charts}
     * charts drew its series, and the console stayed clean. Saves a screenshot as
     * {@code target/report-screenshots/NAME.png}.
     */
    Page check(Path report, JsonNode expected, String name, int charts) throws IOException {
        String file = Files.readString(report);
        driver.get(report.toUri().toString());
        JavascriptExecutor js = driver;
        String kind = (String) js.executeScript("return document.body.dataset.kind");
        double load = ((Number) js.executeScript("const n = performance.getEntriesByType('navigation')[0];"
                + " return n.loadEventEnd - n.startTime;")).doubleValue();

        List<String> errors = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).map(LogEntry::getMessage).toList();
        assertTrue(errors.isEmpty(), name + ": the console has errors: " + errors);

        JsonNode embedded = JSON.readTree((String) js.executeScript(
                "return document.getElementById('kiln-data').textContent"));
        assertEquals(expected, embedded, name + ": the page embeds the --json output");

        int numbers = checkNumbers(js, expected, name);
        // The tables are in the file itself, not made by the script: readable without JavaScript.
        assertEquals(numbers, count(file, "data-json=\""), name + ": numbers in the file as written");

        checkCharts(js, name, charts);

        Path shots = Path.of("target", "report-screenshots");
        Files.createDirectories(shots);
        Files.write(shots.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        System.out.printf(Locale.ROOT, "report %s (%s): %d bytes, load event %.0f ms after navigation, %d numbers,"
                + " %d charts%n", name, kind, Files.size(report), load, numbers, charts);
        return new Page(kind, load, numbers, charts);
    }

    /** Every {@code data-json} number against its JSON value; every number-looking table cell has one. */
    @SuppressWarnings("unchecked")
    private static int checkNumbers(JavascriptExecutor js, JsonNode expected, String name) {
        List<List<String>> shown = (List<List<String>>) js.executeScript(
                "return Array.from(document.querySelectorAll('[data-json]')).map(e => [e.dataset.json, e.textContent])");
        assertFalse(shown.isEmpty(), name + ": no number names its JSON value");
        for (List<String> s : shown) {
            JsonNode v = expected.at(s.get(0));
            assertTrue(v.isNumber(), name + ": " + s.get(0) + " is not a number in the --json output: " + v);
            assertShownAs(v.asDouble(), s.get(1), name + " at " + s.get(0));
        }
        List<String> unnamed = (List<String>) js.executeScript(
                "return Array.from(document.querySelectorAll('table.data td:not([data-json])'))"
                        + ".map(e => e.textContent).filter(t => /^-?[0-9][0-9.e+-]*$/.test(t.trim()))");
        // The first column of a table of runs counts the runs: the one number that is no value of the JSON.
        List<String> runCounters = (List<String>) js.executeScript(
                "return Array.from(document.querySelectorAll('table.runs td:first-child, table.values td:first-child'))"
                        + ".map(e => e.textContent)");
        List<String> left = new java.util.ArrayList<>(unnamed);
        runCounters.forEach(left::remove);
        assertTrue(left.isEmpty(), name + ": table numbers that name no JSON value: " + left);
        return shown.size();
    }

    /** The text shows the value rounded to as many digits as the text has. */
    static void assertShownAs(double value, String shown, String where) {
        Matcher sci = SCIENTIFIC.matcher(shown);
        Matcher dec = DECIMAL.matcher(shown);
        String expected;
        if (sci.matches()) {
            expected = String.format(Locale.ROOT, "%." + sci.group(1).length() + "e", value);
        } else if (dec.matches()) {
            expected = String.format(Locale.ROOT, "%." + (dec.group(2) == null ? 0 : dec.group(2).length()) + "f",
                    value);
        } else {
            throw new AssertionError(where + ": '" + shown + "' is not a number");
        }
        assertEquals(expected, shown, where + ": " + value + " shown as '" + shown + "'");
    }

    /** Each chart element drew a canvas on which its series' colours appear. */
    @SuppressWarnings("unchecked")
    private static void checkCharts(JavascriptExecutor js, String name, int expected) {
        List<Map<String, Object>> charts = (List<Map<String, Object>>) js.executeScript("""
                return Array.from(document.querySelectorAll('.chart')).map(el => {
                  const canvas = el.querySelector('canvas');
                  const result = {chart: el.dataset.chart, drawn: el.dataset.drawn === 'true',
                                  points: Number(el.dataset.points || 0), coloured: 0, inked: 0};
                  if (!canvas) return result;
                  const colours = JSON.parse(el.dataset.colours || '[]').map(c => [1, 3, 5].map(i => parseInt(c.substr(i, 2), 16)));
                  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                  for (let i = 0; i < pixels.length; i += 4) {
                    if (pixels[i + 3] === 0) continue;
                    result.inked++;
                    if (colours.some(c => Math.abs(c[0] - pixels[i]) + Math.abs(c[1] - pixels[i + 1]) + Math.abs(c[2] - pixels[i + 2]) < 24)) result.coloured++;
                  }
                  return result;
                });""");
        assertEquals(expected, charts.size(), name + ": charts on the page: " + charts);
        for (Map<String, Object> c : charts) {
            assertEquals(Boolean.TRUE, c.get("drawn"), name + ": a chart was not drawn: " + c);
            assertTrue(((Number) c.get("points")).longValue() > 0, name + ": a chart without data: " + c);
            assertTrue(((Number) c.get("coloured")).longValue() >= 10, name + ": no series visible on " + c);
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    /** The text of the page as shown (what a reader sees, charts' legends included). */
    String text() {
        return (String) ((JavascriptExecutor) driver).executeScript("return document.body.innerText");
    }

    /** Elements matching a CSS selector in the open page. */
    long count(String selector) {
        return ((Number) ((JavascriptExecutor) driver).executeScript(
                "return document.querySelectorAll(arguments[0]).length", selector)).longValue();
    }

    @Override
    public void close() {
        driver.quit();
    }
}
