package dev.kiln.selection;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The mixed plan of one selection: each node on the backend whose measured cost, with the
 * transfers at partition boundaries, makes the run cheapest. It is one more candidate, compiled
 * and measured as a whole ({@link Candidate} {@value #ID}); this says how it was planned, which
 * nodes run where and what its boundaries cost.
 *
 * @param status            whether it was planned, and if so whether it was worth measuring
 * @param note              why, in words
 * @param base              the backend of most of its nodes, which runs every node not pinned elsewhere
 * @param pins              backend id by node name, for the nodes not on {@code base}
 * @param segments          its partitions in node order, with their predicted and measured costs
 * @param predictedMillis   a run's cost as the plan predicts it
 * @param bestSingle        the backend that runs the graph alone at the lowest predicted cost
 * @param bestSinglePredictedMillis that backend's predicted cost, by the same prices
 */
public record MixedPlan(Status status, String note, String base, Map<String, String> pins, List<Segment> segments,
                        double predictedMillis, String bestSingle, double bestSinglePredictedMillis) {

    /** The mixed plan's candidate id and selection winner. */
    public static final String ID = "mixed";

    public MixedPlan {
        pins = Map.copyOf(pins);
        segments = List.copyOf(segments);
    }

    public enum Status {
        /** Not planned: fewer than two candidates were timed node by node, or the caller pinned nodes. */
        NOT_PLANNED,
        /** Planned, but no placement predicted a gain worth a compile over the best single backend. */
        NO_GAIN,
        /** Planned, compiled and measured as a candidate. */
        MEASURED,
        /** Read from the tuning cache. */
        CACHED;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /**
     * One partition of the plan: consecutive nodes on one backend, and what entering it costs.
     *
     * @param backend        its backend
     * @param firstNode      the index of its first node in the graph's order
     * @param lastNode       the index of its last node
     * @param firstName      its first node's name
     * @param lastName       its last node's name
     * @param nodeMillis     its nodes' predicted time
     * @param bytesIn        the bytes that cross into it (the graph's inputs for the first)
     * @param predictedTransferMillis what entering it was predicted to cost: downloads from the
     *                       partition before, uploads to it and the cost of one more partition
     * @param measuredTransferMillis what the mixed plan's profiled runs took for its uploads and
     *                       the previous partition's downloads; NaN when not measured
     */
    public record Segment(String backend, int firstNode, int lastNode, String firstName, String lastName,
                          double nodeMillis, long bytesIn, double predictedTransferMillis,
                          double measuredTransferMillis) {

        public int nodes() {
            return lastNode - firstNode + 1;
        }

        /** This segment with the transfer time its profiled runs measured. */
        public Segment withMeasured(double ms) {
            return new Segment(backend, firstNode, lastNode, firstName, lastName, nodeMillis, bytesIn,
                    predictedTransferMillis, ms);
        }
    }

    /** A plan that was not made, and why. */
    public static MixedPlan notPlanned(String why) {
        return new MixedPlan(Status.NOT_PLANNED, why, null, Map.of(), List.of(), Double.NaN, null, Double.NaN);
    }

    /** This plan with another status and note. */
    public MixedPlan with(Status s, String why) {
        return new MixedPlan(s, why, base, pins, segments, predictedMillis, bestSingle, bestSinglePredictedMillis);
    }

    /** This plan with its segments' measured transfer times. */
    public MixedPlan withSegments(List<Segment> measured) {
        return new MixedPlan(status, note, base, pins, measured, predictedMillis, bestSingle,
                bestSinglePredictedMillis);
    }

    /** Which nodes run where, e.g. "onednn: nodes 0-12 (conv1 .. layer1.2), cpu-simd: 13-20 (...)". */
    public String describe() {
        StringBuilder text = new StringBuilder();
        for (Segment s : segments) {
            text.append(text.isEmpty() ? "" : ", ").append(s.backend()).append(' ')
                    .append(s.nodes() == 1 ? "node " + s.firstNode() + " (" + s.firstName() + ")"
                            : "nodes " + s.firstNode() + "-" + s.lastNode() + " (" + s.firstName() + " .. "
                            + s.lastName() + ")");
        }
        return text.toString();
    }
}
