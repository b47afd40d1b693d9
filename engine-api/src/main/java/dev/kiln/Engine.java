package dev.kiln;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.optimize.OptimizationReport;
import dev.kiln.optimize.Optimizer;
import dev.kiln.runtime.BackendRegistry;
import dev.kiln.runtime.PluginFolder;
import dev.kiln.runtime.BackendSelection;
import dev.kiln.runtime.ExecutionPlan;
import dev.kiln.runtime.PinCheck;
import dev.kiln.spi.Backend;
import dev.kiln.spi.Device;

import dev.kiln.runtime.HostThreadPool;
import dev.kiln.runtime.InternalAccess;
import dev.kiln.runtime.WeightStore;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.ModelFormat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The entry point: discovers backends, and compiles graphs and model files into runnable models.
 *
 * <pre>{@code
 * try (CompiledModel model = Engine.load(Path.of("resnet50.onnx"));   // needs kiln-models for ONNX
 *      Tensor image = Tensor.allocate(1, 3, 224, 224);
 *      Tensor logits = model.run(image)) {
 *     ...
 * }
 * }</pre>
 *
 * An engine owns its host threads (a pool shared with other open engines of the same size):
 * {@link #close()} lets them go once the models it compiled are closed too. Kiln computes in
 * 32-bit floats only ({@link ElementType#FLOAT32}).
 *
 * Backend choice: {@code auto} (the default) or a backend id, given by
 * {@link #compile(Graph, String)}, else by the {@code kiln.backend} system property, else by
 * the {@value #BACKEND_ENV} environment variable. How {@code auto} chooses is the
 * {@link EngineOptions#selection() selection policy}: measured by default, once per model, input
 * shape and machine, remembered in the tuning cache ({@link CompiledModel#selection()} says how).
 */
public final class Engine implements AutoCloseable {
    public static final String AUTO = "auto";
    public static final String BACKEND_ENV = "KILN_BACKEND";
    public static final String BACKEND_PROPERTY = "kiln.backend";

    public static final String DEVICE_ENV = "KILN_DEVICE";
    public static final String PLUGINS_ENV = "KILN_PLUGINS";
    public static final String PLUGINS_PROPERTY = "kiln.plugins";
    public static final String DEVICE_PROPERTY = "kiln.device";

    static {
        InternalAccess.install(new RuntimeRoute()); // before any engine exists: Kiln's tools reach its runtime objects
    }

    final BackendRegistry registry; // read by the runtime through RuntimeRoute
    private final KernelRegistry kernels;
    private final EngineOptions options;
    private final HostThreadPool threads;
    /** Where model formats are looked up: Kiln's class loader, or the plugin folder's above it. */
    private final ClassLoader formats;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Engine(BackendRegistry registry, KernelRegistry kernels, EngineOptions options, ClassLoader formats) {
        this.registry = registry;
        this.kernels = kernels;
        this.options = options;
        this.formats = formats;
        this.threads = HostThreadPool.acquire(options.threads());
    }

    /** An engine with every backend and kernel provider found on the class path, default options. */
    public static Engine create() {
        return create(EngineOptions.defaults());
    }

    /**
     * An engine with every backend and kernel provider found on the class path, and in the plugin
     * folder when one is configured ({@link #configuredPlugins()}). A plugin that fails to load is
     * recorded in {@link #loadFailures()}, never fatal.
     */
    public static Engine create(EngineOptions options) {
        Path plugins = configuredPlugins();
        if (plugins == null) {
            return new Engine(BackendRegistry.discover(), KernelRegistry.discover(), options,
                    Engine.class.getClassLoader());
        }
        PluginFolder folder = PluginFolder.shared(plugins);
        return new Engine(BackendRegistry.discover(folder.loader(), folder.failures()),
                KernelRegistry.discover(folder.loader()), options, folder.loader());
    }

    /**
     * Loads a model file and compiles it on a new engine with default options, in one call: the
     * model owns the graph and the engine, and closing it frees both. The file's format comes
     * from a {@link ModelFormat} on the class path ({@code kiln-models} provides ONNX).
     *
     * @throws KilnException for a file no format reads, or an invalid model (what and where)
     */
    public static CompiledModel load(Path file) {
        Engine engine = create();
        try {
            CompiledModel model = engine.compile(file);
            model.own(engine);
            return model;
        } catch (RuntimeException | Error e) {
            engine.close();
            throw e;
        }
    }

    /** Loads and compiles a model file with the configured backend; see {@link #compile(Path, CompileOptions)}. */
    public CompiledModel compile(Path file) {
        return compile(file, CompileOptions.defaults());
    }

    /**
     * Loads a model file ({@link ModelFormat}: {@code .onnx} with {@code kiln-models}) and compiles
     * it. The model owns the graph it read: closing the model frees it, and there is no second
     * lifetime to keep.
     *
     * @throws KilnException for a file no format reads, or an invalid model (what and where)
     */
    public CompiledModel compile(Path file, CompileOptions options) {
        Graph graph = formatOf(file).load(file);
        try {
            CompiledModel model = compile(graph, options);
            model.own(graph);
            return model;
        } catch (RuntimeException | Error e) {
            graph.close();
            throw e;
        }
    }

    private ModelFormat formatOf(Path file) {
        List<String> known = new ArrayList<>();
        for (ModelFormat f : ServiceLoader.load(ModelFormat.class, formats)) {
            if (f.accepts(file)) {
                return f;
            }
            known.add(f.name());
        }
        throw new InvalidModelFileException("no model format reads '" + file + "'"
                + (known.isEmpty() ? ": none is installed (add kiln-models for ONNX)"
                : "; formats installed: " + String.join(", ", known)));
    }

    /**
     * Lets the engine's host threads go: the pool's workers end once every engine and model using
     * it is closed (models compiled by this engine keep running until they are closed). Compiling
     * after close is an {@link IllegalStateException}; closing twice is harmless.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            threads.release();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the engine is closed");
        }
    }

    /**
     * The plugin folder asked for outside the code: the {@value #PLUGINS_PROPERTY} system property,
     * else the {@value #PLUGINS_ENV} environment variable, else null (the class path only).
     */
    public static Path configuredPlugins() {
        String fromProperty = System.getProperty(PLUGINS_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return Path.of(fromProperty.trim());
        }
        String fromEnv = System.getenv(PLUGINS_ENV);
        return fromEnv == null || fromEnv.isBlank() ? null : Path.of(fromEnv.trim());
    }

    /** An engine with exactly these backends (tests, embedding applications that pick their own). */
    public static Engine withBackends(List<Backend> backends) {
        return withBackends(backends, KernelRegistry.discover(), EngineOptions.defaults());
    }

    /** An engine with exactly these backends and kernel providers. */
    public static Engine withBackends(List<Backend> backends, KernelRegistry kernels, EngineOptions options) {
        return new Engine(new BackendRegistry(backends), kernels, options, Engine.class.getClassLoader());
    }

    public EngineOptions options() {
        return options;
    }

    public KernelRegistry kernels() {
        return kernels;
    }

    /** What a backend looks like from outside: identity, availability and devices. */
    public record BackendInfo(String id, String version, String description, int rank, boolean available,
                              String reason, List<Device> devices) {
    }

    /**
     * Every discovered backend, highest rank first, available or not. This probes every backend
     * (loading each one's native library, listing its devices): to check one backend, use
     * {@link #backend(String)}, which probes only that one.
     */
    public List<BackendInfo> backends() {
        return registry.entries().stream().map(Engine::info).toList();
    }

    /** The ids of every discovered backend, highest rank first as far as known unprobed; probes none. */
    public List<String> backendIds() {
        return registry.entries().stream().map(BackendRegistry.Entry::id).toList();
    }

    /**
     * One backend as {@link #backends()} describes it, probing that backend alone.
     *
     * @throws BackendUnavailableException if no backend has this id, naming those there are
     */
    public BackendInfo backend(String id) {
        return registry.entries().stream().filter(e -> e.id().equals(id)).findFirst().map(Engine::info)
                .orElseThrow(() -> new BackendUnavailableException("unknown backend '" + id + "'; known backends: "
                        + String.join(", ", backendIds())));
    }

    /** Plugins and providers that failed to load, as their error messages (never fatal). */
    public List<String> loadFailures() {
        return registry.loadFailures();
    }

    private static BackendInfo info(BackendRegistry.Entry e) {
        return new BackendInfo(e.id(), e.backend().version(), e.backend().description(), e.backend().rank(),
                e.available(), e.availability().reason(), e.available() ? safeDevices(e.backend()) : List.of());
    }

    private static List<Device> safeDevices(Backend b) {
        try {
            return b.devices();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /**
     * The id {@code auto} picks by rank for a graph every backend covers: the highest-ranked
     * available one (under the {@code measured} and {@code cached} policies, the choice per model
     * may differ: see {@link CompiledModel#selection()}).
     */
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

    /**
     * The device asked for outside the code: the {@value #DEVICE_PROPERTY} system property, else
     * the {@value #DEVICE_ENV} environment variable, else null (the backend's default).
     */
    public static String configuredDevice() {
        String fromProperty = System.getProperty(DEVICE_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return fromProperty.trim();
        }
        String fromEnv = System.getenv(DEVICE_ENV);
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.trim();
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
     * @throws BackendUnavailableException if the named backend, or a backend a node is pinned to
     *                                     ({@link CompileOptions#pins()}), is unknown or unavailable
     * @throws KilnException               if a pinned node is not in the graph that runs, or its
     *                                     backend cannot run it at batch 1
     */
    public CompiledModel compile(Graph graph, CompileOptions options) {
        checkOpen();
        OptimizationReport report = null;
        String optimizerSkipped = null;
        if (options.optimize()) {
            try {
                report = new Optimizer().optimize(graph);
            } catch (GraphValidationException e) {
                if (graph.hasFixedShapesBesidesBatch()) {
                    throw e;
                }
                // An open image size is probed at sizes the graph may not take (a fixed-size classifier head):
                // it then runs as written, and compiles at the sizes its inputs have.
                optimizerSkipped = "graph '" + graph.name() + "' runs unoptimized: its input shapes " + graph.inputs()
                        + " are open beyond the batch, and " + e.getMessage();
            }
            if (report != null && !report.skippedPasses().isEmpty()) {
                optimizerSkipped = "graph '" + graph.name() + "' is optimized for its fixed axes (its input shapes "
                        + graph.inputs() + " are open beyond the batch), without " + describe(report.skippedPasses());
            }
        }
        Graph runnable = report == null ? graph : report.graph();
        WeightStore weights = new WeightStore();
        // The model's own lease on the threads, taken while this engine holds them: it may outlive the engine's close.
        threads.retain();
        try {
            PinCheck.check(options.pins(), graph, runnable, registry);
            Map<Backend, CompileContext> contexts = new ConcurrentHashMap<>();
            String requested = options.backend();
            Function<Backend, CompileContext> contextOf = b -> contexts.computeIfAbsent(b, k -> new CompileContext(
                    this.options, device(k, k.id().equals(requested) ? options.device() : null), threads, kernels,
                    weights));
            // auto's rank rule probes every backend; where a policy may answer from the tuning cache
            // it is worked out only if needed, so that a hit loads no loser's native library.
            Supplier<BackendSelection> rank = new Once<>(() -> BackendSelection.select(registry, runnable, requested,
                    contextOf));
            boolean rankOnDemand = requested.equals(AUTO) && this.options.selection() != SelectionPolicy.RANK
                    && runnable.hasFixedShapesBesidesBatch();
            if (!rankOnDemand) {
                rank.get(); // an unknown or unavailable backend fails here
            }
            if (options.device() != null && requested.equals(AUTO)) {
                throw new BackendUnavailableException("device '" + options.device() + "' was asked for without a"
                        + " backend: choose the backend too (--backend, " + BACKEND_ENV + "), since ids differ per backend");
            }
            if (options.device() != null) {
                contextOf.apply(rank.get().chosen()); // a device that does not exist fails here, naming the choices
            }
            CompiledModel model = new CompiledModel(runnable, requested, rank, registry.entries(), report, contextOf,
                    threads, weights, this.options, options, optimizerSkipped);
            model.own(threads::release);
            return model;
        } catch (RuntimeException e) {
            threads.release();
            weights.close();
            if (report != null) {
                report.graph().close();
            }
            throw e;
        }
    }

    /**
     * Checks, without compiling anything, that a run of {@code graph} at these input shapes fits
     * this engine's memory limits, as compiling its plan would: for a caller that is about to
     * make inputs of these shapes (a command line's random batch) and wants to fail first.
     *
     * @throws MemoryLimitException with the size needed and the limit
     * @throws dev.kiln.graph.GraphValidationException when the shapes do not fit the graph
     */
    public void checkMemory(Graph graph, Map<String, Shape> inputShapes) {
        ExecutionPlan.checkMemory(graph, inputShapes, options);
    }

    /**
     * The memory one run of {@code graph} at these input shapes needs, as the memory check counts
     * it (activations, dense float32 with elementwise ops in place, plus the run's inputs and
     * outputs), whatever the limit: for a caller that reports it ({@code kiln inspect}).
     *
     * @throws dev.kiln.graph.GraphValidationException when the shapes do not fit the graph
     */
    public static long memoryPerRun(Graph graph, Map<String, Shape> inputShapes) {
        return ExecutionPlan.memoryPerRun(graph, inputShapes);
    }

    /**
     * The device of a backend that {@code wanted} names: its id, its index in the backend's list,
     * or its name (case-insensitive substring); the backend's first device when null.
     *
     * @throws BackendUnavailableException naming the devices there are
     */
    static Device device(Backend backend, String wanted) {
        List<Device> devices = backend.devices();
        if (devices.isEmpty()) {
            throw new BackendUnavailableException("backend '" + backend.id() + "' has no device");
        }
        if (wanted == null) {
            return devices.getFirst();
        }
        for (Device d : devices) {
            if (d.id().equals(wanted)) {
                return d;
            }
        }
        if (wanted.chars().allMatch(Character::isDigit) && wanted.length() < 6) {
            int index = Integer.parseInt(wanted);
            if (index < devices.size()) {
                return devices.get(index);
            }
        }
        for (Device d : devices) {
            if (d.name().toLowerCase(Locale.ROOT).contains(wanted.toLowerCase(Locale.ROOT))) {
                return d;
            }
        }
        StringBuilder known = new StringBuilder();
        for (int i = 0; i < devices.size(); i++) {
            known.append(i == 0 ? "" : ", ").append(i).append(": ").append(devices.get(i).id()).append(" (")
                    .append(devices.get(i).name()).append(')');
        }
        throw new BackendUnavailableException("backend '" + backend.id() + "' has no device '" + wanted
                + "'; its devices: " + known);
    }

    /**
     * Whether a backend's availability has been asked for yet (its native library loaded, its
     * devices listed): for tests and diagnostics of the engine's laziness.
     *
     * @throws BackendUnavailableException if no backend has this id
     */
    public boolean probed(String id) {
        return registry.entries().stream().filter(e -> e.id().equals(id)).findFirst()
                .orElseThrow(() -> new BackendUnavailableException("unknown backend '" + id + "'; known backends: "
                        + String.join(", ", backendIds())))
                .probed();
    }

    /** "pad-folding (why)" for each pass skipped. */
    private static String describe(Map<String, String> skippedPasses) {
        StringBuilder text = new StringBuilder();
        skippedPasses.forEach((pass, why) -> text.append(text.isEmpty() ? "" : "; ").append(pass).append(" (")
                .append(why).append(')'));
        return text.toString();
    }

    /** A value worked out on first use, once, whichever thread asks first. */
    private static final class Once<T> implements Supplier<T> {
        private Supplier<T> work;
        private T value;

        Once(Supplier<T> work) {
            this.work = work;
        }

        @Override
        public synchronized T get() {
            if (work != null) {
                value = work.get();
                work = null;
            }
            return value;
        }
    }
}
