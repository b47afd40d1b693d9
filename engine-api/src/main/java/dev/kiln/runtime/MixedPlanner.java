package dev.kiln.runtime;

import dev.kiln.Shape;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.selection.MixedPlan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Plans the mixed candidate: a shortest path over the graph's node order (the order in which the
 * runtime groups consecutive nodes into partitions; a fused node is one step), where node
 * {@code i} on backend {@code b} costs its measured time there and moving from one backend to
 * another between nodes {@code i} and {@code i+1} costs the transfer of every value alive across
 * that cut (computed before it, read after it) plus one more partition's overhead
 * ({@link BackendCosts}). The path starts with the inputs' upload and ends with the outputs'
 * download, so a single backend's path costs what its run measured.
 *
 * <p>The prices are an estimate: a value alive across several switches is counted at each (the
 * runtime downloads it once), and a node may run faster or slower beside other backends' nodes
 * than alone. So the plan is only a candidate: it is compiled and measured like the others, and
 * it is not even compiled unless it predicts a gain of {@value #MIN_GAIN_PERCENT}% over the best
 * single backend (below that, the noise of the measured parts decides).
 */
public final class MixedPlanner {
    static final int MIN_GAIN_PERCENT = 3;

    private MixedPlanner() {
    }

    /** @param shapes every value's shape ({@link Graph#inferShapes}) */
    static MixedPlan plan(Graph graph, Map<String, Shape> shapes, List<BackendCosts> costs) {
        List<Node> nodes = graph.nodes();
        int n = nodes.size();
        int m = costs.size();
        if (m < 2 || n < 2) {
            return MixedPlan.notPlanned(m < 2 ? "fewer than two candidates were timed node by node"
                    : "the graph has one node");
        }
        long[] cut = cutBytes(graph, shapes);
        long inputBytes = inputBytes(graph, shapes);
        double[][] node = new double[n][m];
        for (int i = 0; i < n; i++) {
            boolean any = false;
            for (int b = 0; b < m; b++) {
                Double ms = costs.get(b).nodeMillis().get(nodes.get(i).name());
                node[i][b] = ms == null ? Double.POSITIVE_INFINITY : ms;
                any |= ms != null;
            }
            if (!any) {
                return MixedPlan.notPlanned("no candidate timed node '" + nodes.get(i).name() + "'");
            }
        }
        // cost[i][b]: the cheapest run of nodes 0..i ending with node i on b; from[i][b]: node i-1's backend.
        double[][] cost = new double[n][m];
        int[][] from = new int[n][m];
        for (int b = 0; b < m; b++) {
            BackendCosts c = costs.get(b);
            cost[0][b] = c.overheadMillis() + c.uploadMillis() + node[0][b];
            from[0][b] = -1;
        }
        for (int i = 1; i < n; i++) {
            for (int b = 0; b < m; b++) {
                double best = cost[i - 1][b];
                int arg = b;
                for (int a = 0; a < m; a++) {
                    if (a != b) {
                        double via = cost[i - 1][a] + switchMillis(costs.get(a), costs.get(b), cut[i - 1]);
                        if (via < best) {
                            best = via;
                            arg = a;
                        }
                    }
                }
                cost[i][b] = best + node[i][b];
                from[i][b] = arg;
            }
        }
        int last = 0;
        for (int b = 0; b < m; b++) {
            if (total(cost, costs, n, b) < total(cost, costs, n, last)) {
                last = b;
            }
        }
        double predicted = total(cost, costs, n, last);
        int[] on = new int[n];
        on[n - 1] = last;
        for (int i = n - 1; i > 0; i--) {
            on[i - 1] = from[i][on[i]];
        }
        // The best single backend, priced the same way.
        int single = -1;
        double singleMillis = Double.POSITIVE_INFINITY;
        for (int b = 0; b < m; b++) {
            BackendCosts c = costs.get(b);
            double sum = c.overheadMillis() + c.uploadMillis() + c.downloadMillis();
            for (int i = 0; i < n; i++) {
                sum += node[i][b];
            }
            if (sum < singleMillis) {
                singleMillis = sum;
                single = b;
            }
        }
        int[] count = new int[m];
        for (int b : on) {
            count[b]++;
        }
        int base = 0;
        for (int b = 1; b < m; b++) {
            if (count[b] > count[base] || count[b] == count[base] && b == single) {
                base = b;
            }
        }
        Map<String, String> pins = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            if (on[i] != base) {
                pins.put(nodes.get(i).name(), costs.get(on[i]).backend());
            }
        }
        List<MixedPlan.Segment> segments = segments(nodes, on, node, cut, inputBytes, costs);
        String bestSingle = costs.get(single).backend();
        MixedPlan plan = new MixedPlan(MixedPlan.Status.NO_GAIN, "", costs.get(base).backend(), pins, segments,
                predicted, bestSingle, singleMillis);
        if (segments.size() == 1) {
            return plan.with(MixedPlan.Status.NO_GAIN, String.format(Locale.ROOT, "by the measured costs every node"
                    + " is cheapest on %s with the transfers counted (%.2f ms predicted)", bestSingle, singleMillis));
        }
        if (predicted > singleMillis * (1 - MIN_GAIN_PERCENT / 100.0)) {
            return plan.with(MixedPlan.Status.NO_GAIN, String.format(Locale.ROOT, "the cheapest placement (%s)"
                    + " predicts %.2f ms against %.2f ms for %s alone: less than %d%% to gain, not worth a"
                    + " compile", plan.describe(), predicted, singleMillis, bestSingle, MIN_GAIN_PERCENT));
        }
        return plan.with(MixedPlan.Status.MEASURED, String.format(Locale.ROOT, "%d partitions predict %.2f ms"
                + " against %.2f ms for %s alone", segments.size(), predicted, singleMillis, bestSingle));
    }

    private static double total(double[][] cost, List<BackendCosts> costs, int n, int b) {
        return cost[n - 1][b] + costs.get(b).downloadMillis();
    }

    /** Leaving a partition on {@code a} for a new one on {@code b} with {@code bytes} alive across the cut. */
    static double switchMillis(BackendCosts a, BackendCosts b, long bytes) {
        return a.downloadMillis(bytes) + b.uploadMillis(bytes) + b.overheadMillis();
    }

    private static List<MixedPlan.Segment> segments(List<Node> nodes, int[] on, double[][] node, long[] cut,
                                                    long inputBytes, List<BackendCosts> costs) {
        List<MixedPlan.Segment> segments = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= on.length; i++) {
            if (i == on.length || on[i] != on[start]) {
                double ms = 0;
                for (int k = start; k <= i - 1; k++) {
                    ms += node[k][on[start]];
                }
                BackendCosts c = costs.get(on[start]);
                long bytes = start == 0 ? inputBytes : cut[start - 1];
                double enter = start == 0 ? c.overheadMillis() + c.uploadMillis()
                        : switchMillis(costs.get(on[start - 1]), c, bytes);
                segments.add(new MixedPlan.Segment(c.backend(), start, i - 1, nodes.get(start).name(),
                        nodes.get(i - 1).name(), ms, bytes, enter, Double.NaN));
                start = i;
            }
        }
        return segments;
    }

    /** Per cut between node {@code k} and {@code k+1}: the bytes of the values computed before it and read after it. */
    public static long[] cutBytes(Graph graph, Map<String, Shape> shapes) {
        List<Node> nodes = graph.nodes();
        int n = nodes.size();
        Map<Node, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            index.put(nodes.get(i), i);
        }
        long[] delta = new long[n + 1];
        List<String> values = new ArrayList<>();
        List<Integer> producers = new ArrayList<>();
        for (ValueInfo v : graph.inputs()) {
            values.add(v.name());
            producers.add(0);
        }
        for (int i = 0; i < n; i++) {
            for (String v : nodes.get(i).outputs()) {
                if (!v.isEmpty()) {
                    values.add(v);
                    producers.add(i);
                }
            }
        }
        for (int k = 0; k < values.size(); k++) {
            String v = values.get(k);
            if (graph.isConstant(v) && graph.input(v) == null) {
                continue;
            }
            int lastReader = -1;
            for (Node c : graph.consumers(v)) {
                lastReader = Math.max(lastReader, index.get(c));
            }
            int from = producers.get(k);
            if (lastReader > from) { // alive across the cuts from .. lastReader - 1
                long bytes = shapes.get(v).elementCount() * Float.BYTES;
                delta[from] += bytes;
                delta[lastReader] -= bytes;
            }
        }
        long[] cut = new long[Math.max(0, n - 1)];
        long alive = 0;
        for (int k = 0; k < n - 1; k++) {
            alive += delta[k];
            cut[k] = alive;
        }
        return cut;
    }

    static long inputBytes(Graph graph, Map<String, Shape> shapes) {
        long bytes = 0;
        for (ValueInfo v : graph.inputs()) {
            bytes += shapes.get(v.name()).elementCount() * Float.BYTES;
        }
        return bytes;
    }

    /** The placement as run lengths over the node order, "onednn*13,cpu-simd*8": how the tuning cache keeps it. */
    static String encode(Graph graph, String base, Map<String, String> pins) {
        StringBuilder text = new StringBuilder();
        String current = null;
        int run = 0;
        for (Node node : graph.nodes()) {
            String b = pins.getOrDefault(node.name(), base);
            if (!b.equals(current) && current != null) {
                text.append(text.isEmpty() ? "" : ",").append(current).append('*').append(run);
                run = 0;
            }
            current = b;
            run++;
        }
        if (current != null) {
            text.append(text.isEmpty() ? "" : ",").append(current).append('*').append(run);
        }
        return text.toString();
    }

    /** The backend of every node from {@link #encode}'s text; null when it does not fit this graph. */
    static List<String> decode(Graph graph, String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        List<String> on = new ArrayList<>();
        for (String part : text.split(",")) {
            int star = part.lastIndexOf('*');
            if (star <= 0) {
                return null;
            }
            int run;
            try {
                run = Integer.parseInt(part.substring(star + 1));
            } catch (NumberFormatException e) {
                return null;
            }
            if (run < 1 || on.size() + run > graph.nodes().size()) {
                return null;
            }
            for (int i = 0; i < run; i++) {
                on.add(part.substring(0, star));
            }
        }
        return on.size() == graph.nodes().size() ? on : null;
    }
}
