package dev.kiln.spark;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.graph.Graph;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The compiled models of this JVM (an executor, or the driver in local mode), one per
 * {@link ModelKey}, shared by every task that runs here: a model is built and compiled on the
 * first task that needs it, and the others wait for that one compile instead of starting their
 * own. {@link CompiledModel} is safe to run from many threads, so tasks share it as is. The
 * models are closed when the JVM shuts down (Spark stops an executor by ending its JVM).
 */
final class ExecutorModels {
    private static final Map<ModelKey, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger COMPILATIONS = new AtomicInteger();

    static {
        Thread closer = new Thread(ExecutorModels::closeAll, "kiln-spark-close-models");
        Runtime.getRuntime().addShutdownHook(closer);
    }

    private ExecutorModels() {
    }

    /** The model and the graph it was compiled from (kept open: the compiled model reads its weights). */
    record Loaded(Graph graph, CompiledModel model) {
    }

    /**
     * The compiled model for this source and these options, compiled now if this JVM has none.
     *
     * @throws RuntimeException Kiln's own (unknown model, unreadable file, unavailable backend),
     *                          which fails the task and so the job
     */
    static Loaded get(ModelSource source, String backend, String selection, int engineThreads) {
        ModelKey key = new ModelKey(source.identity(), backend, selection, engineThreads);
        // computeIfAbsent holds the key's bin while compiling, so concurrent tasks wait for one compile.
        return MODELS.computeIfAbsent(key, k -> compile(source, k));
    }

    /** How many models this JVM has compiled so far (tests count them). */
    static int compilations() {
        return COMPILATIONS.get();
    }

    private static Loaded compile(ModelSource source, ModelKey key) {
        EngineOptions options = EngineOptions.defaults().withThreads(key.engineThreads())
                .withSelection(SelectionPolicy.parse(key.selection(), "the selection param"));
        Graph graph = source.build();
        try {
            CompiledModel model = Engine.create(options).compile(graph, key.backend());
            COMPILATIONS.incrementAndGet();
            return new Loaded(graph, model);
        } catch (RuntimeException e) {
            graph.close();
            throw e;
        }
    }

    private static void closeAll() {
        for (Loaded loaded : MODELS.values()) {
            loaded.model().close();
            loaded.graph().close();
        }
        MODELS.clear();
    }
}
