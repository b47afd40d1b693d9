package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import dev.kiln.runtime.BackendRegistry;
import dev.kiln.runtime.BackendSelection;
import dev.kiln.spi.Backend;
import dev.kiln.spi.Device;

import java.util.List;

/**
 * The entry point: discovers backends, and compiles graphs into runnable models.
 *
 * <pre>{@code
 * Engine engine = Engine.create();
 * try (CompiledModel model = engine.compile(graph);
 *      Tensor image = Tensor.allocate(1, 3, 224, 224);
 *      Tensor logits = model.run(image)) {
 *     ...
 * }
 * }</pre>
 *
 * Backend choice: {@code auto} (the default) or a backend id, given by
 * {@link #compile(Graph, String)}, else by the {@code kiln.backend} system property, else by
 * the {@value #BACKEND_ENV} environment variable.
 */
public final class Engine {
    public static final String AUTO = "auto";
    public static final String BACKEND_ENV = "KILN_BACKEND";
    public static final String BACKEND_PROPERTY = "kiln.backend";

    private final BackendRegistry registry;

    private Engine(BackendRegistry registry) {
        this.registry = registry;
    }

    /** An engine with every backend found on the class path. */
    public static Engine create() {
        return new Engine(BackendRegistry.discover());
    }

    /** An engine with exactly these backends (tests, embedding applications that pick their own). */
    public static Engine withBackends(List<Backend> backends) {
        return new Engine(new BackendRegistry(backends));
    }

    /** What a backend looks like from outside: identity, availability and devices. */
    public record BackendInfo(String id, String description, int rank, boolean available, String reason,
                              List<Device> devices) {
    }

    /** Every discovered backend, highest rank first, available or not. */
    public List<BackendInfo> backends() {
        return registry.entries().stream()
                .map(e -> new BackendInfo(e.id(), e.backend().description(), e.backend().rank(), e.available(),
                        e.availability().reason(), e.available() ? safeDevices(e.backend()) : List.of()))
                .toList();
    }

    private static List<Device> safeDevices(Backend b) {
        try {
            return b.devices();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /** The id {@code auto} would pick for a graph every backend covers: the highest-ranked available one. */
    public String autoChoice() {
        return registry.defaultChoice().id();
    }

    /**
     * The backend asked for outside the code: the {@value #BACKEND_PROPERTY} system property, else
     * the {@value #BACKEND_ENV} environment variable, else {@code auto}.
     */
    public static String configuredBackend() {
        String fromProperty = System.getProperty(BACKEND_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return fromProperty.trim();
        }
        String fromEnv = System.getenv(BACKEND_ENV);
        return fromEnv == null || fromEnv.isBlank() ? AUTO : fromEnv.trim();
    }

    /** Compiles with the backend the environment configures, {@code auto} by default, optimized. */
    public CompiledModel compile(Graph graph) {
        return compile(graph, CompileOptions.defaults());
    }

    /** Compiles, optimized, for a backend id or {@code auto}. */
    public CompiledModel compile(Graph graph, String backend) {
        return compile(graph, CompileOptions.defaults().withBackend(backend));
    }

    /**
     * Compiles a graph. The graph must stay open while the model is used: a model compiles again,
     * once per new input shape (a new batch size), on demand, and the optimized graph reads the
     * weights it keeps unchanged from the original.
     *
     * @throws BackendUnavailableException if the named backend is unknown or unavailable
     */
    public CompiledModel compile(Graph graph, CompileOptions options) {
        // The optimizer reasons about shapes at a given batch: a graph whose image size is also open runs as written.
        boolean optimize = options.optimize() && graph.hasFixedShapesBesidesBatch();
        OptimizationReport report = optimize ? new Optimizer().optimize(graph) : null;
        Graph runnable = report == null ? graph : report.graph();
        try {
            BackendSelection selection = BackendSelection.select(registry, runnable, options.backend());
            return new CompiledModel(runnable, selection, report);
        } catch (RuntimeException e) {
            if (report != null) {
                report.graph().close();
            }
            throw e;
        }
    }

    public BackendRegistry registry() {
        return registry;
    }
}
