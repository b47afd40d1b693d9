package dev.kiln.selection;

import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.cache.CacheKey;
import dev.kiln.cache.TuningCache;
import dev.kiln.graph.Graph;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.BackendRegistry;
import dev.kiln.runtime.BackendSelection;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.HostThreadPool;
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

    /** The selection, and the winner's plan when choosing it compiled one (else null: compile it). */
    public record Choice(Selection selection, List<BackendRegistry.Entry> order, ExecutionPlan plan) {
    }

    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final String requested;
    private final Supplier<BackendSelection> rank;
    /** Every discovered backend in rank order, none probed by being listed here. */
    private final List<BackendRegistry.Entry> entries;
    private final Function<Backend, CompileContext> contexts;
    private final EngineOptions options;
    private final HostThreadPool threads;
    private final HostFingerprint host;
    private final long started = System.nanoTime();

    private Selector(Graph graph, Map<String, Shape> shapes, String requested, Supplier<BackendSelection> rank,
                     List<BackendRegistry.Entry> entries, Function<Backend, CompileContext> contexts,
                     EngineOptions options, HostThreadPool threads, HostFingerprint host) {
        this.graph = graph;
        this.shapes = shapes;
        this.requested = requested;
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
     * @param rank      the rank rule's choice, asked for only where needed: working it out probes
     *                  every backend (loads native libraries, opens devices), which a cache hit
     *                  spares
     * @param entries   every discovered backend in rank order, unprobed
     */
    public static Choice choose(Graph graph, Map<String, Shape> shapes, String requested,
                                Supplier<BackendSelection> rank, List<BackendRegistry.Entry> entries,
                                Function<Backend, CompileContext> contexts, EngineOptions options,
                                HostThreadPool threads) {
        return new Selector(graph, shapes, requested, rank, entries, contexts, options, threads,
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
                options.threads(), host);
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
                            + notCandidates(considered) + staleNote), orderWith(only), null);
        }
        if (policy == SelectionPolicy.CACHED) {
            BackendSelection byRank = rank.get();
            return new Choice(selection(policy, shapeText, considered, Selection.CacheUse.MISS, key.fields(),
                    byRank.chosen().id(), "auto (cached) found no usable tuning cache entry and never measures, so"
                            + " it went by rank: " + byRank.explanation() + staleNote), byRank.order(), null);
        }
        return measure(policy, shapeText, considered, candidates, key, cache, memoryKey,
                stale == null ? cached : null, staleNote);
    }

    /** Why a cached answer cannot be used here now (its winner unavailable, refusing a node, on another device); null when it can. */
    private String whyNotValid(Map<String, String> cached) {
        String id = cached.get("winner");
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

    private Choice hit(SelectionPolicy policy, String shapeText, CacheKey key, Map<String, String> cached) {
        Backend winner = entries.stream().filter(x -> x.id().equals(cached.get("winner"))).findFirst().orElseThrow()
                .backend();
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
        return new Choice(selection(policy, shapeText, listed, Selection.CacheUse.HIT, key.fields(), winner.id(),
                "auto (" + policy.label() + ") chose '" + winner.id() + "' from the tuning cache (measured "
                        + cached.getOrDefault("measured_at", "earlier") + "): " + times(listed)
                        + notCandidates(listed)), orderWith(winner), null);
    }

    /** Every backend with whether it is a candidate; returns the candidates, in rank order. */
    private List<Backend> candidates(List<Candidate> considered) {
        List<BoundNode> nodes = ExecutionPlan.bind(graph, graph.inferShapes(shapes));
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
        Map<String, Trial> trials = new LinkedHashMap<>();
        try {
            // First pass, in rank order: compile each candidate and run it for its share of what is left.
            for (int i = 0; i < candidates.size(); i++) {
                Backend b = candidates.get(i);
                boolean anyTimed = trials.values().stream().anyMatch(Trial::timed);
                Trial t = new Trial(b, graph, shapes, orderWith(b), contexts, options, threads);
                trials.put(b.id(), t);
                if (System.nanoTime() >= deadline && anyTimed) {
                    t.drop("not measured: the selection budget of " + options.selectionBudget().toMillis()
                            + " ms was spent on the candidates before it");
                    continue;
                }
                t.compile(deadline, anyTimed);
                t.runFor(firstPassEnd, deadline, candidates.size() - i);
            }
            // Then, while budget is left, the candidates in turn, one run each per round: a machine's
            // load changes over seconds (other processes, the JIT still compiling the candidate measured
            // before), and alternating spreads it over all of them alike. These runs decide when there
            // are at least three rounds; candidates that had not settled finish warming up here too.
            while (System.nanoTime() < deadline) {
                List<Trial> live = trials.values().stream().filter(Trial::timed).toList();
                if (live.size() < 2 || live.stream().allMatch(Trial::alternatedEnough)) {
                    break;
                }
                for (Trial t : live) {
                    t.alternate(deadline);
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
            Backend winner;
            if (best == null) {
                winner = rank.get().chosen();
                why = "auto (" + policy.label() + ") measured no candidate successfully, so it went by rank: "
                        + rank.get().explanation();
            } else {
                winner = byId(candidates, best.backend());
                why = "auto (" + policy.label() + ") chose '" + winner.id() + "', the fastest by median of the"
                        + " candidates measured now";
                Candidate kept = previous == null ? null : results.stream()
                        .filter(c -> c.backend().equals(previous.get("winner"))).findFirst().orElse(null);
                if (kept != null && kept != best && kept.timed()
                        && best.medianMillis() >= kept.medianMillis() * (1 - REPLACE_MARGIN)) {
                    winner = byId(candidates, kept.backend());
                    why = "auto (" + policy.label() + ") kept the cached winner '" + winner.id() + "': '"
                            + best.backend() + "' is faster by less than " + Math.round(REPLACE_MARGIN * 100) + "%";
                }
            }
            List<Candidate> listed = new ArrayList<>(considered);
            listed.replaceAll(c -> results.stream().filter(r -> r.backend().equals(c.backend())).findFirst().orElse(c));
            String stored = "";
            if (best != null) {
                Map<String, String> values = new LinkedHashMap<>();
                values.put("winner", winner.id());
                values.put("measured_at", Instant.now().toString());
                values.put("budget_ms", Long.toString(options.selectionBudget().toMillis()));
                for (Candidate c : results) {
                    if (c.timed()) {
                        values.put("median_ms." + c.backend(), String.format(Locale.ROOT, "%.4f", c.medianMillis()));
                    } else {
                        values.put("dropped." + c.backend(), c.note());
                    }
                    // The device it ran on: a hit checks its winner's, without probing the others.
                    values.put("device." + c.backend(), contexts.apply(byId(candidates, c.backend())).device().name());
                }
                for (Candidate c : considered) {
                    if (c.outcome() == Candidate.Outcome.NOT_A_CANDIDATE) {
                        values.put("not_candidate." + c.backend(), c.note());
                    }
                }
                REMEMBERED.put(memoryKey, values);
                stored = cache.put(key, values) ? "; stored in the tuning cache" : "; not stored (the cache"
                        + " cannot be written)";
            }
            Trial won = trials.get(winner.id());
            ExecutionPlan plan = won == null ? null : won.takePlan(); // null: compiled by the caller
            return new Choice(selection(policy, shapeText, listed, Selection.CacheUse.MISS, key.fields(), winner.id(),
                    why + " (" + times(listed) + ")" + notCandidates(listed) + staleNote + stored), orderWith(winner),
                    plan);
        } finally {
            trials.values().forEach(Trial::close);
        }
    }

    private Choice fixed(SelectionPolicy policy, String shapeText, List<Candidate> considered, String why) {
        BackendSelection byRank = rank.get();
        return new Choice(selection(policy, shapeText, considered, Selection.CacheUse.NOT_USED, Map.of(),
                byRank.chosen().id(), why), byRank.order(), null);
    }

    private Selection selection(SelectionPolicy policy, String shapeText, List<Candidate> candidates,
                                Selection.CacheUse cache, Map<String, String> key, String winner, String why) {
        return new Selection(policy, shapeText, candidates, cache, key, winner, (System.nanoTime() - started) / 1e6,
                why);
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
                text.append(text.isEmpty() ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%s %.2f ms", c.backend(), c.medianMillis()));
            } else if (c.outcome() == Candidate.Outcome.DROPPED) {
                text.append(text.isEmpty() ? "" : ", ").append(c.backend()).append(" dropped: ").append(c.note());
            }
        }
        return text.toString();
    }

    private static String notCandidates(List<Candidate> listed) {
        List<String> not = listed.stream().filter(c -> c.outcome() == Candidate.Outcome.NOT_A_CANDIDATE)
                .map(c -> c.backend() + ": " + c.note()).toList();
        return not.isEmpty() ? "" : "; not candidates: " + String.join("; ", not);
    }

    private static Candidate notOne(Backend b, String why) {
        return new Candidate(b.id(), b.rank(), Candidate.Outcome.NOT_A_CANDIDATE, Double.NaN, 0, why);
    }

    private static Backend byId(List<Backend> candidates, String id) {
        return candidates.stream().filter(b -> b.id().equals(id)).findFirst().orElseThrow();
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
