package dev.kiln.runtime;

import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.RunProfile;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.cache.CacheKey;
import dev.kiln.cache.TuningCache;
import dev.kiln.graph.Graph;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.selection.Candidate;
import dev.kiln.selection.HostFingerprint;
import dev.kiln.selection.MixedPlan;
import dev.kiln.selection.Selection;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;

import java.io.File;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Chooses the backend of one plan (a model at one set of input shapes) by the engine's
 * {@link SelectionPolicy}, when the plan is first compiled. Under {@code measured}, on a cache
 * miss: every available backend that runs the whole graph is a candidate (the reference backend
 * only when no other is); each, in rank order, is compiled and run on seeded inputs until its
 * times settle ({@link Timing}) or its share of the first {@value #FIRST_PASS_PERCENT}% of the
 * budget ends; then, for the rest of the budget, the candidates run in turn, one run each per
 * round, and with at least three such rounds their medians decide (a machine's load drifts, and
 * alternating spreads it over all alike; a candidate that had not settled goes on warming up). The
 * fastest median wins. A candidate that fails to compile or run, or leaves a node to another
 * backend, is dropped with the reason; one whose first run ends past the budget is abandoned
 * then. The winner's plan is kept, so a miss costs no
 * second compile, and the answer goes to the tuning cache, so a later start compiles the winner
 * only.
 */
public final class Selector {
    /** The tuning cache's kind for selections: the folder under the cache root. */
    public static final String CACHE_KIND = "selection";
    /** Read-only cache roots (an application image's) consulted after the user's: a path list. */
    public static final String READ_ONLY_CACHE_ENV = "KILN_CACHE_READONLY";
    /** How much faster than the cached winner another candidate must be to replace it on re-measuring. */
    static final double REPLACE_MARGIN = 0.05;
    /** The part of the budget for warming the candidates one after another; the rest alternates them. */
    static final int FIRST_PASS_PERCENT = 60;

    /**
     * Answers already found in this process, by cache folder and key digest: a cache folder that
     * cannot be written still spares a second measurement of the same model in the process.
     */
    private static final Map<String, Map<String, String>> REMEMBERED = new ConcurrentHashMap<>();

    /** Profiled runs per candidate for the mixed plan's prices, and of the mixed plan for its boundaries' cost. */
    static final int PROFILED_RUNS = 3;

    /**
     * The selection, the fallback order and pins to compile with (the caller's, or the mixed
     * plan's), and the winner's plan when choosing it compiled one (else null: compile it).
     */
    public record Choice(Selection selection, List<BackendRegistry.Entry> order, Map<String, String> pins,
                         ExecutionPlan plan) {
        public Choice {
            pins = Map.copyOf(pins);
        }
    }

    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final String requested;
    /** The caller's pins: backend id by node name. */
    private final Map<String, String> pins;
    private final Supplier<BackendSelection> rank;
    /** Every discovered backend in rank order, none probed by being listed here. */
    private final List<BackendRegistry.Entry> entries;
    private final Function<Backend, CompileContext> contexts;
    private final EngineOptions options;
    private final HostThreadPool threads;
    private final HostFingerprint host;
    private final long started = System.nanoTime();

    private Selector(Graph graph, Map<String, Shape> shapes, String requested, Map<String, String> pins,
                     Supplier<BackendSelection> rank,
                     List<BackendRegistry.Entry> entries, Function<Backend, CompileContext> contexts,
                     EngineOptions options, HostThreadPool threads, HostFingerprint host) {
        this.graph = graph;
        this.shapes = shapes;
        this.requested = requested;
        this.pins = pins;
        this.rank = rank;
        this.entries = entries;
        this.contexts = contexts;
        this.options = options;
        this.threads = threads;
        this.host = host;
    }

    /**
     * The backend for a plan of {@code graph} at {@code shapes}: the explicit one when one was
     * asked for, else by the engine's policy.
     *
     * @param requested a backend id or {@code auto}
     * @param pins      the caller's placement pins (backend id by node name), honoured by every
     *                  candidate; with pins there is no mixed plan
     * @param rank      the rank rule's choice, asked for only where needed: working it out probes
     *                  every backend (loads native libraries, opens devices), which a cache hit
     *                  spares
     * @param entries   every discovered backend in rank order, unprobed
     */
    public static Choice choose(Graph graph, Map<String, Shape> shapes, String requested, Map<String, String> pins,
                                Supplier<BackendSelection> rank, List<BackendRegistry.Entry> entries,
                                Function<Backend, CompileContext> contexts, EngineOptions options,
                                HostThreadPool threads) {
        return new Selector(graph, shapes, requested, pins, rank, entries, contexts, options, threads,
                HostFingerprint.current()).choose();
    }

    private Choice choose() {
        String shapeText = SelectionKey.inputText(graph, shapes);
        if (!requested.equals(Engine.AUTO)) {
            return fixed(null, shapeText, List.of(), rank.get().explanation());
        }
        SelectionPolicy policy = options.selection();
        if (policy == SelectionPolicy.RANK || !graph.hasFixedShapesBesidesBatch()) {
            return fixed(policy, shapeText, List.of(), rank.get().explanation());
        }
        // The key names every discovered backend and its version but probes none: a hit then
        // probes only its winner (checked to run here still, on the same device).
        CacheKey key = SelectionKey.of(graph, shapes, entries.stream().map(BackendRegistry.Entry::backend).toList(),
                options.threads(), host, pins);
        TuningCache cache = TuningCache.open(options.cacheRoot(), readOnlyRoots(), CACHE_KIND);
        String memoryKey = cache.folder() + "/" + key.digest();
        Map<String, String> cached = REMEMBERED.get(memoryKey);
        if (cached == null) {
            cached = cache.get(key).orElse(null);
        }
        String stale = null;
        if (cached != null) {
            stale = whyNotValid(cached);
            if (stale == null && policy != SelectionPolicy.REMEASURE) {
                return hit(policy, shapeText, key, cached);
            }
        }
        String staleNote = stale == null ? "" : "; the cached winner was not used: " + stale;
        List<Candidate> considered = new ArrayList<>();
        List<Backend> candidates = candidates(considered);
        if (candidates.isEmpty()) {
            return fixed(policy, shapeText, considered, "no backend runs every node of the graph, so "
                    + rank.get().explanation());
        }
        if (candidates.size() == 1) {
            Backend only = candidates.getFirst();
            considered.replaceAll(c -> c.backend().equals(only.id())
                    ? new Candidate(c.backend(), c.rank(), Candidate.Outcome.UNMEASURED, Double.NaN, 0,
                    "the only backend that runs every node") : c);
            return new Choice(selection(policy, shapeText, considered, Selection.CacheUse.NOT_USED, Map.of(),
                    only.id(), "auto (" + policy.label() + ") chose '" + only.id()
                            + "', the only available backend that runs every node; nothing to measure"
                            + notCandidates(considered) + staleNote), orderWith(only), pins, null);
        }
        if (policy == SelectionPolicy.CACHED) {
            BackendSelection byRank = rank.get();
            return new Choice(selection(policy, shapeText, considered, Selection.CacheUse.MISS, key.fields(),
                    byRank.chosen().id(), "auto (cached) found no usable tuning cache entry and never measures, so"
                            + " it went by rank: " + byRank.explanation() + staleNote), byRank.order(), pins, null);
        }
        return measure(policy, shapeText, considered, candidates, key, cache, memoryKey,
                stale == null ? cached : null, staleNote);
    }

    /** Why a cached answer cannot be used here now (its winner unavailable, refusing a node, on another device); null when it can. */
    private String whyNotValid(Map<String, String> cached) {
        String id = cached.get("winner");
        if (MixedPlan.ID.equals(id)) {
            return whyMixedNotValid(cached);
        }
        BackendRegistry.Entry e = entries.stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
        if (e == null) {
            return "'" + id + "' is not installed";
        }
        if (!e.available()) {
            return "'" + id + "' is unavailable: " + e.availability().reason();
        }
        CompileContext context = contexts.apply(e.backend());
        String device = cached.get("device." + id);
        if (device != null && !device.equals(context.device().name())) {
            return "'" + id + "' was measured on " + device + ", and would run on " + context.device().name();
        }
        BackendSelection.Coverage coverage = BackendSelection.coverage(e.backend(),
                ExecutionPlan.bind(graph, graph.inferShapes(shapes)), context);
        return coverage.complete() ? null : "'" + id + "' no longer runs every node (" + coverage.firstRefusal() + ")";
    }

    /** As {@link #whyNotValid} for a mixed winner: each of its backends available, on its device, running its nodes. */
    private String whyMixedNotValid(Map<String, String> cached) {
        List<String> on = MixedPlanner.decode(graph, cached.get("mixed.placement"));
        if (on == null || !on.contains(cached.get("mixed.base"))) {
            return "its mixed placement does not fit the graph";
        }
        List<BoundNode> nodes = ExecutionPlan.bind(graph, graph.inferShapes(shapes));
        for (String id : new java.util.LinkedHashSet<>(on)) {
            BackendRegistry.Entry e = entries.stream().filter(x -> x.id().equals(id)).findFirst().orElse(null);
            if (e == null) {
                return "the mixed plan's '" + id + "' is not installed";
            }
            if (!e.available()) {
                return "the mixed plan's '" + id + "' is unavailable: " + e.availability().reason();
            }
            CompileContext context = contexts.apply(e.backend());
            String device = cached.get("device." + id);
            if (device != null && !device.equals(context.device().name())) {
                return "the mixed plan's '" + id + "' was measured on " + device + ", and would run on "
                        + context.device().name();
            }
            List<BoundNode> mine = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                if (on.get(i).equals(id)) {
                    mine.add(nodes.get(i));
                }
            }
            BackendSelection.Coverage coverage = BackendSelection.coverage(e.backend(), mine, context);
            if (!coverage.complete()) {
                return "the mixed plan's '" + id + "' no longer runs its nodes (" + coverage.firstRefusal() + ")";
            }
        }
        return null;
    }

    /** The mixed plan a cache entry holds, with its placement (without costs: they are not kept). */
    private MixedPlan cachedMixed(Map<String, String> cached) {
        List<String> on = MixedPlanner.decode(graph, cached.get("mixed.placement"));
        String note = cached.getOrDefault("mixed.note", "");
        if (on == null) {
            return MixedPlan.notPlanned(note.isEmpty() ? "not planned when measured" : note + " (when measured)");
        }
        String base = cached.get("mixed.base");
        Map<String, String> mixedPins = new LinkedHashMap<>();
        List<MixedPlan.Segment> segments = new ArrayList<>();
        List<dev.kiln.graph.Node> nodes = graph.nodes();
        for (int i = 0; i < on.size(); i++) {
            if (!on.get(i).equals(base)) {
                mixedPins.put(nodes.get(i).name(), on.get(i));
            }
            if (i == 0 || !on.get(i).equals(on.get(i - 1))) {
                segments.add(new MixedPlan.Segment(on.get(i), i, i, nodes.get(i).name(), nodes.get(i).name(),
                        Double.NaN, 0, Double.NaN, Double.NaN));
            } else {
                MixedPlan.Segment last = segments.removeLast();
                segments.add(new MixedPlan.Segment(last.backend(), last.firstNode(), i, last.firstName(),
                        nodes.get(i).name(), Double.NaN, 0, Double.NaN, Double.NaN));
            }
        }
        return new MixedPlan(MixedPlan.Status.CACHED, note + " (when measured)", base, mixedPins, segments,
                Double.NaN, null, Double.NaN);
    }

    private Choice hit(SelectionPolicy policy, String shapeText, CacheKey key, Map<String, String> cached) {
        MixedPlan mixed = cachedMixed(cached);
        boolean mixedWon = MixedPlan.ID.equals(cached.get("winner"));
        Backend winner = entries.stream().filter(x -> x.id().equals(mixedWon ? mixed.base() : cached.get("winner")))
                .findFirst().orElseThrow().backend();
        List<Candidate> listed = new ArrayList<>();
        for (BackendRegistry.Entry e : entries) {
            Backend b = e.backend();
            String ms = cached.get("median_ms." + b.id());
            String dropped = cached.get("dropped." + b.id());
            String not = cached.get("not_candidate." + b.id());
            if (ms != null) {
                listed.add(new Candidate(b.id(), b.rank(), Candidate.Outcome.CACHED, parse(ms), 0, "from the cache"));
            } else if (dropped != null) {
                listed.add(new Candidate(b.id(), b.rank(), Candidate.Outcome.DROPPED, Double.NaN, 0,
                        dropped + " (when measured)"));
            } else {
                listed.add(notOne(b, not != null ? not + " (when measured)" : "not considered when measured"));
            }
        }
        String mixedMs = cached.get("median_ms." + MixedPlan.ID);
        String mixedDropped = cached.get("dropped." + MixedPlan.ID);
        if (mixedMs != null) {
            listed.add(new Candidate(MixedPlan.ID, 0, Candidate.Outcome.CACHED, parse(mixedMs), 0, "from the cache"));
        } else if (mixedDropped != null) {
            listed.add(new Candidate(MixedPlan.ID, 0, Candidate.Outcome.DROPPED, Double.NaN, 0,
                    mixedDropped + " (when measured)"));
        }
        String id = mixedWon ? MixedPlan.ID : winner.id();
        return new Choice(selection(policy, shapeText, listed, Selection.CacheUse.HIT, key.fields(), id,
                "auto (" + policy.label() + ") chose '" + id + "' from the tuning cache (measured "
                        + cached.getOrDefault("measured_at", "earlier") + "): " + times(listed)
                        + (mixedWon ? "; the mixed plan runs " + mixed.describe() : "")
                        + notCandidates(listed), mixed), orderWith(winner), mixedWon ? mixed.pins() : pins, null);
    }

    /** Every backend with whether it is a candidate; returns the candidates, in rank order. */
    private List<Backend> candidates(List<Candidate> considered) {
        // A candidate runs every node the caller did not pin elsewhere.
        List<BoundNode> nodes = ExecutionPlan.bind(graph, graph.inferShapes(shapes)).stream()
                .filter(n -> !pins.containsKey(n.node().name())).toList();
        List<Backend> full = new ArrayList<>();
        Backend reference = null;
        for (BackendRegistry.Entry e : entries) {
            Backend b = e.backend();
            if (!e.available()) {
                considered.add(notOne(b, "unavailable: " + e.availability().reason()));
                continue;
            }
            BackendSelection.Coverage coverage = BackendSelection.coverage(b, nodes, contexts.apply(b));
            if (!coverage.complete()) {
                considered.add(notOne(b, "runs " + coverage.supported() + " of " + coverage.total()
                        + " nodes (first refused: " + coverage.firstRefusal() + ")"));
            } else if (b.id().equals(ReferenceBackend.ID)) {
                reference = b;
                considered.add(notOne(b, "")); // settled below, once it is known whether another runs the graph
            } else {
                full.add(b);
                considered.add(new Candidate(b.id(), b.rank(), Candidate.Outcome.UNMEASURED, Double.NaN, 0,
                        "runs every node"));
            }
        }
        full.sort((a, b) -> Integer.compare(b.rank(), a.rank()));
        Backend ref = reference;
        if (ref != null) {
            considered.replaceAll(c -> !c.backend().equals(ref.id()) ? c : full.isEmpty()
                    ? new Candidate(ref.id(), ref.rank(), Candidate.Outcome.UNMEASURED, Double.NaN, 0, "runs every node")
                    : notOne(ref, "the reference backend is a candidate only when no other runs every node"));
            if (full.isEmpty()) {
                full.add(ref);
            }
        }
        return full;
    }

    private Choice measure(SelectionPolicy policy, String shapeText, List<Candidate> considered,
                           List<Backend> candidates, CacheKey key, TuningCache cache, String memoryKey,
                           Map<String, String> previous, String staleNote) {
        long deadline = started + options.selectionBudget().toNanos();
        long firstPassEnd = started + options.selectionBudget().toNanos() * FIRST_PASS_PERCENT / 100;
        // The mixed plan needs two candidates to mix, and is not planned over the caller's pins.
        boolean mixedPossible = pins.isEmpty() && candidates.size() >= 2;
        MixedPlan mixed = MixedPlan.notPlanned(!pins.isEmpty() ? "the caller pinned nodes, which fixes the placement"
                : "only one candidate");
        Map<String, Trial> trials = new LinkedHashMap<>();
        try {
            // First pass, in rank order: compile each candidate and run it for its share of what is
            // left (one share more is left over for the mixed plan), then time its nodes.
            for (int i = 0; i < candidates.size(); i++) {
                Backend b = candidates.get(i);
                boolean anyTimed = trials.values().stream().anyMatch(Trial::timed);
                Trial t = new Trial(b.id(), b.rank(), b, pins, graph, shapes, orderWith(b), contexts, options, threads);
                trials.put(b.id(), t);
                if (System.nanoTime() >= deadline && anyTimed) {
                    t.drop("not measured: the selection budget of " + options.selectionBudget().toMillis()
                            + " ms was spent on the candidates before it");
                    continue;
                }
                t.compile(deadline, anyTimed);
                t.runFor(firstPassEnd, deadline, candidates.size() - i + (mixedPossible ? 1 : 0));
                if (mixedPossible) {
                    t.profile(firstPassEnd, deadline, PROFILED_RUNS);
                }
            }
            // Then, while budget is left, the candidates in turn, one run each per round: a machine's
            // load changes over seconds (other processes, the JIT still compiling the candidate measured
            // before), and alternating spreads it over all of them alike. These runs decide when there
            // are at least three rounds; candidates that had not settled finish warming up here too.
            alternate(trials, deadline);
            // The mixed plan is priced with the candidates' settled medians, then compiled, warmed
            // and alternated with them for what is left of the budget.
            if (mixedPossible) {
                mixed = planMixed(trials.values());
                if (mixed.status() == MixedPlan.Status.MEASURED) {
                    mixed = measureMixed(mixed, trials, candidates, deadline);
                    alternate(trials, deadline);
                }
            }
            List<Candidate> results = trials.values().stream().map(Trial::result).toList();
            Candidate best = null;
            for (Candidate c : results) {
                if (c.timed() && (best == null || c.medianMillis() < best.medianMillis())) {
                    best = c;
                }
            }
            String why;
            String winner;
            if (best == null) {
                winner = rank.get().chosen().id();
                why = "auto (" + policy.label() + ") measured no candidate successfully, so it went by rank: "
                        + rank.get().explanation();
            } else {
                winner = best.backend();
                why = "auto (" + policy.label() + ") chose '" + winner + "', the fastest by median of the"
                        + " candidates measured now";
                Candidate kept = previous == null ? null : results.stream()
                        .filter(c -> c.backend().equals(previous.get("winner"))).findFirst().orElse(null);
                if (kept != null && kept != best && kept.timed()
                        && best.medianMillis() >= kept.medianMillis() * (1 - REPLACE_MARGIN)) {
                    winner = kept.backend();
                    why = "auto (" + policy.label() + ") kept the cached winner '" + winner + "': '"
                            + best.backend() + "' is faster by less than " + Math.round(REPLACE_MARGIN * 100) + "%";
                }
            }
            boolean mixedWon = winner.equals(MixedPlan.ID);
            Backend base = best == null ? rank.get().chosen() : byId(candidates, mixedWon ? mixed.base() : winner, null);
            List<Candidate> listed = new ArrayList<>(considered);
            listed.replaceAll(c -> results.stream().filter(r -> r.backend().equals(c.backend())).findFirst().orElse(c));
            results.stream().filter(r -> r.backend().equals(MixedPlan.ID)).forEach(listed::add);
            String stored = "";
            if (best != null) {
                Map<String, String> values = new LinkedHashMap<>();
                values.put("winner", winner);
                values.put("measured_at", Instant.now().toString());
                values.put("budget_ms", Long.toString(options.selectionBudget().toMillis()));
                for (Candidate c : results) {
                    if (c.timed()) {
                        values.put("median_ms." + c.backend(), String.format(Locale.ROOT, "%.4f", c.medianMillis()));
                    } else {
                        values.put("dropped." + c.backend(), c.note());
                    }
                    if (!c.backend().equals(MixedPlan.ID)) {
                        // The device it ran on: a hit checks its winner's, without probing the others.
                        values.put("device." + c.backend(),
                                contexts.apply(byId(candidates, c.backend(), null)).device().name());
                    }
                }
                for (Candidate c : considered) {
                    if (c.outcome() == Candidate.Outcome.NOT_A_CANDIDATE) {
                        values.put("not_candidate." + c.backend(), c.note());
                    }
                }
                values.put("mixed.note", oneLine(mixed.note()));
                if (mixed.base() != null) {
                    values.put("mixed.base", mixed.base());
                    values.put("mixed.placement", MixedPlanner.encode(graph, mixed.base(), mixed.pins()));
                }
                REMEMBERED.put(memoryKey, values);
                stored = cache.put(key, values) ? "; stored in the tuning cache" : "; not stored (the cache"
                        + " cannot be written)";
            }
            Trial won = trials.get(winner);
            ExecutionPlan plan = won == null ? null : won.takePlan(); // null: compiled by the caller
            String mixedText = mixed.status() == MixedPlan.Status.NOT_PLANNED && !mixedPossible ? ""
                    : mixedWon ? "; the mixed plan runs " + mixed.describe()
                    : "; mixed plan: " + mixed.note();
            return new Choice(selection(policy, shapeText, listed, Selection.CacheUse.MISS, key.fields(), winner,
                    why + " (" + times(listed) + ")" + mixedText + notCandidates(listed) + staleNote + stored, mixed),
                    orderWith(base), mixedWon ? mixed.pins() : pins, plan);
        } finally {
            trials.values().forEach(Trial::close);
        }
    }

    /** Runs the timed candidates in turn, one run each per round, until each has enough such runs or the budget ends. */
    private static void alternate(Map<String, Trial> trials, long deadline) {
        while (System.nanoTime() < deadline) {
            List<Trial> live = trials.values().stream().filter(Trial::timed).toList();
            if (live.size() < 2 || live.stream().allMatch(Trial::alternatedEnough)) {
                break;
            }
            for (Trial t : live) {
                t.alternate(deadline);
            }
        }
    }

    /** Prices each candidate timed node by node ({@link BackendCosts}) and plans the mixed placement. */
    private MixedPlan planMixed(java.util.Collection<Trial> trials) {
        List<BackendCosts> costs = new ArrayList<>();
        List<String> without = new ArrayList<>();
        long inputBytes = MixedPlanner.inputBytes(graph, shapes);
        for (Trial t : trials) {
            if (!t.timed()) {
                continue; // dropped: its reason is the candidate's note
            }
            RunProfile profile = t.profiled();
            BackendCosts c = profile == null ? null : BackendCosts.of(t.id(), profile, t.median(), inputBytes);
            if (c == null) {
                without.add(t.id() + (profile == null ? ": no profiled run within the budget"
                        : ": it does not time nodes one by one"));
            } else {
                costs.add(c);
            }
        }
        MixedPlan plan = MixedPlanner.plan(graph, graph.inferShapes(shapes), costs);
        return without.isEmpty() ? plan : plan.with(plan.status(), plan.note() + " (no node times from "
                + String.join("; ", without) + ")");
    }

    /**
     * Compiles the mixed plan as one more candidate, warms it for up to half of what is left of the
     * budget and times its transfers; alternating rounds then measure it with the others.
     */
    private MixedPlan measureMixed(MixedPlan mixed, Map<String, Trial> trials, List<Backend> candidates,
                                   long deadline) {
        Backend base = byId(candidates, mixed.base(), null);
        Trial t = new Trial(MixedPlan.ID, 0, base, mixed.pins(), graph, shapes, orderWith(base), contexts, options,
                threads);
        trials.put(MixedPlan.ID, t);
        if (System.nanoTime() >= deadline) {
            t.drop("not measured: the selection budget of " + options.selectionBudget().toMillis()
                    + " ms was spent on the candidates before it");
            return mixed;
        }
        t.compile(deadline, true);
        long warmEnd = System.nanoTime() + Math.max(0, deadline - System.nanoTime()) / 2;
        t.runFor(warmEnd, deadline, 1);
        t.profile(warmEnd, deadline, PROFILED_RUNS);
        RunProfile profile = t.profiled();
        if (profile == null) {
            return mixed;
        }
        // What entering each partition took: its uploads and the downloads of the partition before it.
        Map<String, Double> transfers = new java.util.HashMap<>();
        profile.entries().stream().filter(e -> e.kind() == RunProfile.Kind.TRANSFER)
                .forEach(e -> transfers.put(e.name(), e.medianMicros() / 1000));
        List<MixedPlan.Segment> measured = new ArrayList<>();
        for (int k = 0; k < mixed.segments().size(); k++) {
            double ms = transfers.getOrDefault("upload to partition " + k, 0.0)
                    + (k == 0 ? 0 : transfers.getOrDefault("download from partition " + (k - 1), 0.0));
            measured.add(mixed.segments().get(k).withMeasured(ms));
        }
        return mixed.withSegments(measured);
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ').replace('\r', ' ');
    }

    private Choice fixed(SelectionPolicy policy, String shapeText, List<Candidate> considered, String why) {
        BackendSelection byRank = rank.get();
        return new Choice(selection(policy, shapeText, considered, Selection.CacheUse.NOT_USED, Map.of(),
                byRank.chosen().id(), why), byRank.order(), pins, null);
    }

    private Selection selection(SelectionPolicy policy, String shapeText, List<Candidate> candidates,
                                Selection.CacheUse cache, Map<String, String> key, String winner, String why) {
        return selection(policy, shapeText, candidates, cache, key, winner, why, null);
    }

    private Selection selection(SelectionPolicy policy, String shapeText, List<Candidate> candidates,
                                Selection.CacheUse cache, Map<String, String> key, String winner, String why,
                                MixedPlan mixed) {
        return new Selection(policy, shapeText, candidates, cache, key, winner, (System.nanoTime() - started) / 1e6,
                why, mixed);
    }

    private static double parse(String ms) {
        try {
            return Double.parseDouble(ms);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String times(List<Candidate> listed) {
        StringBuilder text = new StringBuilder();
        for (Candidate c : listed) {
            if (c.timed()) {
                text.append(text.isEmpty() ? "" : ", ").append(c.backend()).append(' ')
                        .append(twoDecimals(c.medianMillis())).append(" ms");
            } else if (c.outcome() == Candidate.Outcome.DROPPED) {
                text.append(text.isEmpty() ? "" : ", ").append(c.backend()).append(" dropped: ").append(c.note());
            }
        }
        return text.toString();
    }

    /**
     * A time with two decimals, as {@code %.2f} writes it, without a {@code Formatter}: a cache hit
     * formats a few, and a fresh JVM's first {@code String.format} costs 10-20 ms.
     */
    static String twoDecimals(double ms) {
        if (!Double.isFinite(ms) || Math.abs(ms) >= 1e15) {
            return String.format(Locale.ROOT, "%.2f", ms);
        }
        long hundredths = Math.round(Math.abs(ms) * 100);
        long fraction = hundredths % 100;
        return (ms < 0 && hundredths != 0 ? "-" : "") + hundredths / 100 + (fraction < 10 ? ".0" : ".") + fraction;
    }

    private static String notCandidates(List<Candidate> listed) {
        List<String> not = listed.stream().filter(c -> c.outcome() == Candidate.Outcome.NOT_A_CANDIDATE)
                .map(c -> c.backend() + ": " + c.note()).toList();
        return not.isEmpty() ? "" : "; not candidates: " + String.join("; ", not);
    }

    private static Candidate notOne(Backend b, String why) {
        return new Candidate(b.id(), b.rank(), Candidate.Outcome.NOT_A_CANDIDATE, Double.NaN, 0, why);
    }

    /** The candidate with this id; {@code otherwise} when none has it (the rank rule's choice, when nothing was measured). */
    private static Backend byId(List<Backend> candidates, String id, Backend otherwise) {
        return candidates.stream().filter(b -> b.id().equals(id)).findFirst().orElseGet(() -> {
            if (otherwise == null) {
                throw new IllegalStateException("no candidate '" + id + "'");
            }
            return otherwise;
        });
    }

    /** The fallback order with {@code first} first, the others in rank order as before. */
    private List<BackendRegistry.Entry> orderWith(Backend first) {
        List<BackendRegistry.Entry> order = new ArrayList<>();
        for (BackendRegistry.Entry e : entries) {
            if (e.backend() == first) {
                order.addFirst(e);
            } else {
                order.add(e);
            }
        }
        return order;
    }

    private static List<Path> readOnlyRoots() {
        String env = System.getenv(READ_ONLY_CACHE_ENV);
        if (env == null || env.isBlank()) {
            return List.of();
        }
        return Arrays.stream(env.split(File.pathSeparator)).filter(s -> !s.isBlank()).map(s -> Path.of(s.trim()))
                .toList();
    }

    /** Forgets this process's answers (tests, {@code kiln tune --clear}). */
    public static void forgetRemembered() {
        REMEMBERED.clear();
    }
}
