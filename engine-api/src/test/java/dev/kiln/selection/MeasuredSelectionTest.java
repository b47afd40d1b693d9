package dev.kiln.selection;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.cache.CacheKey;
import dev.kiln.cache.TuningCache;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.runtime.SelectionKey;
import dev.kiln.runtime.Selector;
import dev.kiln.spi.Backend;
import dev.kiln.spi.KernelRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measured selection with test backends whose speed is set by a sleep per run: a fast backend of
 * low rank against a slow one of high rank. The only timing asserted is a generous hang guard.
 */
class MeasuredSelectionTest {
    @TempDir
    Path dir;
    private Path cacheRoot;
    private Graph graph;

    @BeforeEach
    void setUp() {
        cacheRoot = dir.resolve("cache");
        GraphBuilder b = new GraphBuilder("relu");
        b.input("x", Shape.of(1, 3));
        b.add("y", new Activation(ActivationFunction.RELU), "x");
        b.output("y");
        graph = b.build();
        Selector.forgetRemembered();
    }

    @AfterEach
    void tearDown() {
        graph.close();
        Selector.forgetRemembered();
    }

    private EngineOptions options(SelectionPolicy policy) {
        return EngineOptions.defaults().withThreads(1).withSelection(policy)
                .withSelectionBudget(Duration.ofSeconds(10)).withCacheRoot(cacheRoot);
    }

    private static Engine engine(EngineOptions options, Backend... backends) {
        return Engine.withBackends(List.of(backends), KernelRegistry.discover(), options);
    }

    private static TimedBackend slow() {
        return new TimedBackend("slow", 300, "1", 20);
    }

    private static TimedBackend fast() {
        return new TimedBackend("fast", 100, "1", 0);
    }

    private static void assertRunsRelu(CompiledModel model) {
        try (Tensor x = Tensor.of(Shape.of(1, 3), -1, 0, 2); Tensor y = model.run(x)) {
            assertArrayEquals(new float[] {0, 0, 2}, y.toFloatArray());
        }
    }

    @Test
    void theFastBackendOfLowRankWinsWhenMeasuredAndLosesByRank() {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
            Selection s = model.selection();
            assertEquals(SelectionPolicy.MEASURED, s.policy());
            assertEquals(Selection.CacheUse.MISS, s.cache());
            assertEquals("fast", s.winner());
            for (Candidate c : s.candidates()) {
                assertEquals(Candidate.Outcome.MEASURED, c.outcome(), c.toString());
                assertTrue(c.timed(), c.toString());
            }
            assertTrue(s.keyFields().containsKey("threads"), s.keyFields().toString());
            assertTrue(s.explanation().contains("fastest"), s.explanation());
            assertRunsRelu(model);
        }
        try (CompiledModel model = engine(options(SelectionPolicy.RANK), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("slow", model.backend());
            assertEquals(Selection.CacheUse.NOT_USED, model.selection().cache());
        }
    }

    @Test
    void aCacheHitCompilesOnlyTheWinner() {
        TimedBackend slow = slow();
        TimedBackend fast = fast();
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow, fast).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
        }
        assertTrue(slow.compiles.get() > 0 && fast.compiles.get() > 0);
        Selector.forgetRemembered(); // as a new process would: the answer must come from the disk
        TimedBackend slowAgain = slow();
        TimedBackend fastAgain = fast();
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), slowAgain, fastAgain)
                .compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
            assertEquals(Selection.CacheUse.HIT, model.selection().cache());
            assertEquals(Candidate.Outcome.CACHED, model.selection().winnerCandidate().outcome());
            assertRunsRelu(model);
        }
        assertEquals(0, slowAgain.compiles.get(), "a cache hit must not compile the loser");
        assertEquals(0, slowAgain.probes.get(), "nor probe it (a native backend would load its library)");
        assertEquals(1, fastAgain.compiles.get(), "a cache hit compiles the winner once");
        assertEquals(0, slowAgain.runs.get());
    }

    @Test
    void aCacheHitInitializesNoOtherCandidate() {
        // The winner ranks between the two losers: neither the rank rule (which probes every
        // backend from the top) nor a fallback order may touch the others on a hit.
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast(),
                new TimedBackend("slower", 50, "1", 40)).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
        }
        Selector.forgetRemembered(); // as a new process would: the answer must come from the disk
        TimedBackend slow = slow();
        TimedBackend fast = fast();
        TimedBackend slower = new TimedBackend("slower", 50, "1", 40);
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow, fast, slower)
                .compile(graph, Engine.AUTO)) {
            model.planForBatch(1);
            assertEquals(Selection.CacheUse.HIT, model.selection().cache());
            assertEquals("fast", model.backend());
            assertRunsRelu(model);
        }
        for (TimedBackend loser : List.of(slow, slower)) {
            String who = "a cache hit must leave '" + loser.id() + "' alone: ";
            assertEquals(0, loser.probes.get(), who + "no availability probe (a native library loaded)");
            assertEquals(0, loser.deviceLookups.get(), who + "no device lookup (a platform enumerated)");
            assertEquals(0, loser.supportQueries.get(), who + "no coverage check");
            assertEquals(0, loser.compiles.get(), who + "no compile");
            assertEquals(0, loser.runs.get(), who + "no run");
        }
        assertEquals(1, fast.probes.get(), "the winner is probed once");
        assertEquals(1, fast.compiles.get(), "and compiled once");
    }

    @Test
    void aCachedWinnerThatCannotRunHereNowIsNotUsed() {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
        }
        Selector.forgetRemembered();
        TimedBackend gone = fast();
        gone.unavailable = true;
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), slow(), gone).compile(graph, Engine.AUTO)) {
            assertEquals("slow", model.backend());
            assertNotEquals(Selection.CacheUse.HIT, model.selection().cache());
            assertTrue(model.selection().explanation().contains("the cached winner was not used: 'fast' is"
                    + " unavailable"), model.selection().explanation());
            assertRunsRelu(model);
        }
    }

    @Test
    void remeasuringKeepsTheCachedWinnerUnlessAnotherIsMoreThanFivePercentFaster() {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), new TimedBackend("a", 100, "1", 100),
                new TimedBackend("b", 200, "1", 200)).compile(graph, Engine.AUTO)) {
            assertEquals("a", model.backend());
        }
        // b now as fast as a (the same sleep, 100 ms, so that a scheduler's few ms of noise stay
        // well within the 5%): a stays and nothing flaps.
        try (CompiledModel model = engine(options(SelectionPolicy.REMEASURE), new TimedBackend("a", 100, "1", 100),
                new TimedBackend("b", 200, "1", 100)).compile(graph, Engine.AUTO)) {
            assertEquals("a", model.backend(), model.selection().explanation());
            assertEquals(Selection.CacheUse.MISS, model.selection().cache(), "remeasure always measures");
        }
        // b now twice as fast: it replaces a.
        try (CompiledModel model = engine(options(SelectionPolicy.REMEASURE), new TimedBackend("a", 100, "1", 100),
                new TimedBackend("b", 200, "1", 50)).compile(graph, Engine.AUTO)) {
            assertEquals("b", model.backend(), model.selection().explanation());
        }
        Selector.forgetRemembered();
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), new TimedBackend("a", 100, "1", 100),
                new TimedBackend("b", 200, "1", 50)).compile(graph, Engine.AUTO)) {
            assertEquals("b", model.backend(), "the new winner was stored");
        }
    }

    @Test
    void cachedNeverMeasuresAndGoesByRankOnAMiss() {
        TimedBackend slow = slow();
        TimedBackend fast = fast();
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), slow, fast).compile(graph, Engine.AUTO)) {
            assertEquals("slow", model.backend());
            assertEquals(Selection.CacheUse.MISS, model.selection().cache());
        }
        assertEquals(0, fast.compiles.get());
    }

    @Test
    void anotherThreadCountOrBackendVersionMisses() {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.MISS, model.selection().cache());
        }
        Selector.forgetRemembered();
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.HIT, model.selection().cache(), "the same key hits");
        }
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED).withThreads(2), slow(), fast())
                .compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.MISS, model.selection().cache(), "another thread count");
        }
        TimedBackend newer = new TimedBackend("fast", 100, "2", 0);
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), newer).compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.MISS, model.selection().cache(), "another version of a candidate");
        }
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast(),
                new TimedBackend("installed", 10, "1", 40)).compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.MISS, model.selection().cache(), "a newly installed backend");
        }
    }

    @Test
    void anotherCpuFlagSetMisses() {
        HostFingerprint host = HostFingerprint.current();
        HostFingerprint narrower = new HostFingerprint(host.cpu(), host.isa() + ";test:no-avx512", host.jdk(),
                host.kiln());
        List<Backend> candidates = List.of(slow(), fast());
        CacheKey mine = SelectionKey.of(graph, graph.inputShapesForBatch(1), candidates, 1, host);
        CacheKey other = SelectionKey.of(graph, graph.inputShapesForBatch(1), candidates, 1, narrower);
        assertNotEquals(mine.digest(), other.digest());
        TuningCache cache = TuningCache.open(cacheRoot, Selector.CACHE_KIND);
        assertTrue(cache.put(mine, Map.of("winner", "fast")));
        assertTrue(cache.get(mine).isPresent());
        assertTrue(cache.get(other).isEmpty(), "another ISA flag set must miss");
    }

    @Test
    void corruptTruncatedAndForeignCachesLeaveAutoWorking() throws Exception {
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
        }
        Path folder = cacheRoot.resolve(Selector.CACHE_KIND);
        Path entry;
        try (var files = Files.list(folder)) {
            entry = files.filter(p -> p.toString().endsWith(".entry")).findFirst().orElseThrow();
        }
        String good = Files.readString(entry);
        List<String> damaged = List.of(
                good.substring(0, good.length() / 2), // truncated
                good.replace("winner=fast", "winner=slow"), // corrupt: the checksum no longer matches
                "PK\u0003\u0004 not a cache file at all", // foreign
                good.replace("kiln-tuning-cache 1", "kiln-tuning-cache 99")); // a future format
        for (String text : damaged) {
            Files.writeString(entry, text, StandardCharsets.UTF_8);
            Selector.forgetRemembered();
            try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow(), fast())
                    .compile(graph, Engine.AUTO)) {
                assertEquals("fast", model.backend(), text);
                assertEquals(Selection.CacheUse.MISS, model.selection().cache(), text);
                assertRunsRelu(model);
            }
            assertEquals(good.lines().filter(l -> l.startsWith("key ")).toList(),
                    Files.readString(entry).lines().filter(l -> l.startsWith("key ")).toList(),
                    "measured again and rewritten whole");
        }
        Files.write(entry, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1}); // not even text
        Selector.forgetRemembered();
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("slow", model.backend(), "cached, with nothing readable: by rank");
        }
    }

    @Test
    void aCacheThatCannotBeWrittenLeavesAutoWorking() throws Exception {
        // A file where the cache folder should be: no process (root included) can create the folder.
        Files.writeString(dir.resolve("blocked"), "a file");
        EngineOptions blocked = options(SelectionPolicy.MEASURED).withCacheRoot(dir.resolve("blocked").resolve("kiln"));
        try (CompiledModel model = engine(blocked, slow(), fast()).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
            assertTrue(model.selection().explanation().contains("not stored"), model.selection().explanation());
            assertRunsRelu(model);
        }
        TimedBackend slow = slow();
        TimedBackend fast = fast();
        try (CompiledModel model = engine(blocked, slow, fast).compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
            assertEquals(Selection.CacheUse.HIT, model.selection().cache(), "remembered for the process");
        }
        assertEquals(0, slow.compiles.get());
    }

    /** One of {@link #twoJvmsTuningTheSameModelAtOnceBothChooseAndLeaveOneValidEntry}'s processes. */
    public static final class Tuner {
        public static void main(String[] args) {
            GraphBuilder b = new GraphBuilder("relu");
            b.input("x", Shape.of(1, 3));
            b.add("y", new Activation(ActivationFunction.RELU), "x");
            b.output("y");
            EngineOptions o = EngineOptions.defaults().withThreads(1).withSelection(SelectionPolicy.MEASURED)
                    .withSelectionBudget(Duration.ofSeconds(10)).withCacheRoot(Path.of(args[0]));
            try (Graph g = b.build(); CompiledModel model = engine(o, slow(), fast()).compile(g, Engine.AUTO)) {
                Selection s = model.selection();
                System.out.println(s.winner() + " " + s.cache().label() + ": " + s.explanation());
                System.exit(s.winner().equals("fast") ? 0 : 4);
            }
        }
    }

    @Test
    void twoJvmsTuningTheSameModelAtOnceBothChooseAndLeaveOneValidEntry() throws Exception {
        List<Process> tuners = new java.util.ArrayList<>();
        List<Path> logs = new java.util.ArrayList<>();
        for (String name : List.of("first", "second")) {
            Path log = dir.resolve(name + ".log"); // a file, not a pipe: a hung child cannot block the test
            logs.add(log);
            List<String> command = new java.util.ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElseThrow());
            // The JVM's vector flags (-XX:UseAVX=2 in the suite's AVX2 runs) are part of the cache key
            // (HostFingerprint): the tuners run with this JVM's, or their entry would not be this JVM's.
            ProcessHandle.current().info().arguments().ifPresent(args -> java.util.Arrays.stream(args)
                    .filter(a -> a.startsWith("-XX:")).forEach(command::add));
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), Tuner.class.getName(),
                    cacheRoot.toString()));
            tuners.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start());
        }
        for (int i = 0; i < tuners.size(); i++) {
            Process p = tuners.get(i);
            boolean ended = p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS); // a hang guard
            if (!ended) {
                p.destroyForcibly();
            }
            assertTrue(ended, "a tuner hung");
            assertEquals(0, p.exitValue(), Files.readString(logs.get(i)));
        }
        // The first to start measured; the second measured too, or found the first's answer if it began later.
        String both = Files.readString(logs.get(0)) + Files.readString(logs.get(1));
        assertTrue(both.contains("fast miss: auto (measured) chose 'fast'"), both);
        try (var files = Files.list(cacheRoot.resolve(Selector.CACHE_KIND))) {
            assertEquals(1, files.count(), "one entry, no temporary file left");
        }
        TimedBackend slow = slow();
        try (CompiledModel model = engine(options(SelectionPolicy.CACHED), slow, fast()).compile(graph, Engine.AUTO)) {
            assertEquals(Selection.CacheUse.HIT, model.selection().cache(), "the entry they left is valid");
            assertEquals("fast", model.backend());
        }
        assertEquals(0, slow.compiles.get());
    }

    @Test
    void aCandidateThatFailsToCompileIsDroppedWithItsReason() {
        TimedBackend broken = new TimedBackend("broken", 400, "1", 0);
        broken.failCompile = true;
        try (CompiledModel model = engine(options(SelectionPolicy.MEASURED), broken, slow(), fast())
                .compile(graph, Engine.AUTO)) {
            assertEquals("fast", model.backend());
            Candidate c = model.selection().candidates().stream().filter(x -> x.backend().equals("broken"))
                    .findFirst().orElseThrow();
            assertEquals(Candidate.Outcome.DROPPED, c.outcome());
            assertTrue(c.note().contains("refuses to compile"), c.note());
            assertTrue(model.selection().explanation().contains("broken dropped"), model.selection().explanation());
        }
    }

    /**
     * The case: a candidate that sleeps 10 s per run, under a budget of 1 s, is abandoned
     * when its first run returns, so selection ends after about 11 s (the test takes about 12). It
     * cannot end before that run has returned (the engine does not interrupt a run), which the lower
     * bound checks; the upper bound is the budget, that one run and a margin of 5 s, a hang guard
     * rather than a timing: what selection does besides (compiling both candidates, the fast one's
     * few runs, the JIT, waking from the sleep) took 0.7 s on a 2-core host at load 22 (selection
     * ended after 10.72 s), and at load 28 a 1 ms sleep was seen to take several: a loaded CI host
     * has seven times that to spare.
     */
    @Test
    void aCandidateThatSleepsPerRunCannotStretchSelectionPastItsBudgetAndOneRun() {
        long sleep = 10_000;
        Duration budget = Duration.ofSeconds(1);
        long margin = 5_000;
        TimedBackend sleeper = new TimedBackend("sleeper", 300, "1", sleep);
        EngineOptions o = options(SelectionPolicy.MEASURED).withSelectionBudget(budget);
        long started = System.nanoTime();
        try (CompiledModel model = engine(o, sleeper, fast()).compile(graph, Engine.AUTO)) {
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("MeasuredSelectionTest: a 10 s sleeper under a 1 s budget: selection ended after %d ms%n",
                    elapsedMillis);
            assertTrue(elapsedMillis >= sleep, "ended before the sleeper's one run returned: " + elapsedMillis + " ms");
            assertTrue(elapsedMillis < budget.toMillis() + sleep + margin, "past the budget, one run and the margin: "
                    + elapsedMillis + " ms");
            assertEquals("fast", model.backend());
            Candidate c = model.selection().candidates().getFirst();
            assertEquals("sleeper", c.backend());
            assertEquals(Candidate.Outcome.DROPPED, c.outcome());
            assertTrue(c.note().contains("abandoned"), c.note());
            assertEquals(1, sleeper.runs.get(), "abandoned when its one run returned");
        }
    }

    @Test
    void eachBatchSizeIsChosenWhenItsPlanIsMade() {
        TimedBackend slow = slow();
        TimedBackend fast = fast();
        GraphBuilder b = new GraphBuilder("relu-batch");
        b.input("x", Shape.of(Shape.DYNAMIC, 3));
        b.add("y", new Activation(ActivationFunction.RELU), "x");
        b.output("y");
        try (Graph batched = b.build();
             CompiledModel model = engine(options(SelectionPolicy.MEASURED), slow, fast).compile(batched, Engine.AUTO)) {
            assertTrue(model.selection().shapes().contains("[1, 3]") || model.selection().shapes().contains("1x3")
                    || model.selection().shapes().contains("1"), model.selection().shapes());
            Selection four = model.selectionForBatch(4);
            assertEquals("fast", four.winner());
            assertNotEquals(model.selection().shapes(), four.shapes());
            assertEquals(Selection.CacheUse.MISS, four.cache());
        }
    }
}
