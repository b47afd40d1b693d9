/**
 * Self-contained HTML reports of {@code kiln bench}, {@code verify}, {@code tune} and
 * {@code report --compare}: one file with the command's {@code --json} output embedded, the chart
 * library inlined, every figure also as a table readable without JavaScript.
 *
 * <p>The pages are built from the JSON trees the commands print, never from their Java objects,
 * so that a report shows exactly what {@code --json} says and {@code report --compare} can draw
 * saved runs. Every number in a table names the JSON value it shows ({@code data-json}, a JSON
 * pointer into the embedded data), which the browser tests check. The page's skeleton, style and
 * chart code are resources beside these classes; the charts come from uPlot's WebJar.
 */
package dev.kiln.cli.report;
