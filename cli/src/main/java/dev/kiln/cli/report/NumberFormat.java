package dev.kiln.cli.report;

import java.util.Locale;

/**
 * How a number is shown in a report's tables. A reader of the page (and its browser test) can tell
 * the precision from the text alone: digits after the point, or a mantissa and an exponent.
 */
enum NumberFormat {
    /** Whole numbers: counts, batch sizes, bytes. */
    INTEGER,
    /** Milliseconds and rates as the terminal table shows them: one decimal from 100 up, else two. */
    MEASURE,
    /** One decimal: percentages. */
    ONE_DECIMAL,
    /** Three significant digits with an exponent: relative errors and tolerances. */
    SCIENTIFIC;

    String format(double value) {
        return switch (this) {
            case INTEGER -> String.format(Locale.ROOT, "%.0f", value);
            case MEASURE -> String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.1f" : "%.2f", value);
            case ONE_DECIMAL -> String.format(Locale.ROOT, "%.1f", value);
            case SCIENTIFIC -> String.format(Locale.ROOT, "%.2e", value);
        };
    }
}
