package dev.kiln;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * How an engine runs, whatever it compiles: how many host threads its pool has (all of the
 * engine's compiled models and host backends share it), how many input-shape plans a compiled
 * model keeps before it drops the least recently used, and how much memory a plan may need.
 *
 * <p>The memory limits are checked when a plan is compiled, before any backend allocates: a model
 * whose activations (its memory plan, the run's input and output tensors and the tensors between
 * backends) need more than {@code maxMemoryBytes}, or with one tensor larger than
 * {@code maxTensorBytes}, fails with a {@link MemoryLimitException} that gives the size needed
 * and the limit. Weights are not counted: they are bounded by the model file.
 *
 * @param threads        host threads; from {@value #THREADS_PROPERTY} or {@value #THREADS_ENV} by default, else all cores
 * @param cachedPlans    plans (one per distinct set of input shapes) a compiled model keeps
 * @param maxMemoryBytes what one run of a plan may need; from {@value #MAX_MEMORY_PROPERTY} or
 *                       {@value #MAX_MEMORY_ENV} by default, else {@link #machineMemoryLimit()}
 * @param maxTensorBytes the largest single tensor of a plan; {@code maxMemoryBytes} by default
 * @param selection      how {@code auto} chooses a backend; from {@value #SELECT_PROPERTY} or
 *                       {@value #SELECT_ENV} by default, else {@link SelectionPolicy#MEASURED}
 * @param selectionBudget the time measuring may take per model and input shape; from
 *                       {@value #SELECT_BUDGET_PROPERTY} or {@value #SELECT_BUDGET_ENV}, else 10 s
 * @param cacheRoot      Kiln's cache folder (the tuning cache lives under it); null for none, by
 *                       default {@link dev.kiln.cache.KilnCache#configuredRoot()}
 * @param concurrentRuns how many runs of one plan may be in flight at once, each with its own
 *                       buffers (a run beyond them waits); the memory check allows fewer when
 *                       that many runs would not fit the memory limit together. By default the
 *                       thread count, at least 2: more runs at once than threads only queue.
 */
public record EngineOptions(int threads, int cachedPlans, long maxMemoryBytes, long maxTensorBytes,
                            SelectionPolicy selection, Duration selectionBudget, Path cacheRoot, int concurrentRuns) {
    public static final String THREADS_ENV = "KILN_THREADS";
    public static final String THREADS_PROPERTY = "kiln.threads";
    public static final String MAX_MEMORY_ENV = "KILN_MAX_MEMORY";
    public static final String MAX_MEMORY_PROPERTY = "kiln.max.memory";
    public static final int DEFAULT_CACHED_PLANS = 8;
    public static final String SELECT_ENV = "KILN_SELECT";
    public static final String SELECT_PROPERTY = "kiln.select";
    public static final String SELECT_BUDGET_ENV = "KILN_SELECT_BUDGET";
    public static final String SELECT_BUDGET_PROPERTY = "kiln.select.budget";
    public static final Duration DEFAULT_SELECTION_BUDGET = Duration.ofSeconds(10);

    /** Selection policy, budget and cache root as configured outside the code. */
    public EngineOptions(int threads, int cachedPlans, long maxMemoryBytes, long maxTensorBytes) {
        this(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, configuredSelection(), configuredSelectionBudget(),
                dev.kiln.cache.KilnCache.configuredRoot());
    }

    /** {@code concurrentRuns} by default: {@link #defaultConcurrentRuns(int)}. */
    public EngineOptions(int threads, int cachedPlans, long maxMemoryBytes, long maxTensorBytes,
                         SelectionPolicy selection, Duration selectionBudget, Path cacheRoot) {
        this(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, selection, selectionBudget, cacheRoot,
                defaultConcurrentRuns(threads));
    }

    /** The default bound on runs in flight per plan: the thread count, at least 2. */
    public static int defaultConcurrentRuns(int threads) {
        return Math.max(2, threads);
    }

    public EngineOptions {
        if (concurrentRuns < 1) {
            throw new IllegalArgumentException("concurrentRuns must be at least 1, got " + concurrentRuns);
        }
        if (selection == null) {
            throw new IllegalArgumentException("selection must not be null");
        }
        if (selectionBudget == null || selectionBudget.isNegative()) {
            throw new IllegalArgumentException("selectionBudget must be zero or more, got " + selectionBudget);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (cachedPlans < 1) {
            throw new IllegalArgumentException("cachedPlans must be at least 1, got " + cachedPlans);
        }
        if (maxMemoryBytes < 1) {
            throw new IllegalArgumentException("maxMemoryBytes must be positive, got " + maxMemoryBytes);
        }
        if (maxTensorBytes < 1) {
            throw new IllegalArgumentException("maxTensorBytes must be positive, got " + maxTensorBytes);
        }
    }

    /** Threads and memory limit as configured outside the code, else every core and {@link #machineMemoryLimit()}. */
    public static EngineOptions defaults() {
        long memory = configuredMaxMemory();
        return new EngineOptions(configuredThreads(), DEFAULT_CACHED_PLANS, memory, memory);
    }

    /** Another thread count; {@code concurrentRuns} follows it while it is at its default. */
    public EngineOptions withThreads(int n) {
        int runs = concurrentRuns == defaultConcurrentRuns(threads) ? defaultConcurrentRuns(n) : concurrentRuns;
        return new EngineOptions(n, cachedPlans, maxMemoryBytes, maxTensorBytes, selection, selectionBudget, cacheRoot,
                runs);
    }

    /** How many runs of one plan may be in flight at once (see {@link #concurrentRuns()}). */
    public EngineOptions withConcurrentRuns(int n) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, selection, selectionBudget,
                cacheRoot, n);
    }

    public EngineOptions withCachedPlans(int n) {
        return new EngineOptions(threads, n, maxMemoryBytes, maxTensorBytes, selection, selectionBudget,
                cacheRoot, concurrentRuns);
    }

    /** A memory limit for a whole run; the single-tensor limit becomes the smaller of the two. */
    public EngineOptions withMaxMemoryBytes(long bytes) {
        return new EngineOptions(threads, cachedPlans, bytes, Math.min(maxTensorBytes, bytes), selection,
                selectionBudget, cacheRoot, concurrentRuns);
    }

    public EngineOptions withMaxTensorBytes(long bytes) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, bytes, selection, selectionBudget,
                cacheRoot, concurrentRuns);
    }

    public EngineOptions withSelection(SelectionPolicy policy) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, policy, selectionBudget,
                cacheRoot, concurrentRuns);
    }

    public EngineOptions withSelectionBudget(Duration budget) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, selection, budget,
                cacheRoot, concurrentRuns);
    }

    /** Where the caches live; null for no cache on disk (selection is then remembered for the process only). */
    public EngineOptions withCacheRoot(Path root) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, maxTensorBytes, selection, selectionBudget,
                root, concurrentRuns);
    }

    /**
     * The {@value #SELECT_PROPERTY} system property, else the {@value #SELECT_ENV} environment
     * variable ({@code rank}, {@code measured}, {@code cached}, {@code remeasure}), else measured.
     *
     * @throws InvalidSettingException for another value, naming where it came from
     */
    public static SelectionPolicy configuredSelection() {
        String property = System.getProperty(SELECT_PROPERTY);
        if (property != null && !property.isBlank()) {
            return SelectionPolicy.parse(property, "system property " + SELECT_PROPERTY);
        }
        String env = System.getenv(SELECT_ENV);
        if (env != null && !env.isBlank()) {
            return SelectionPolicy.parse(env, "environment variable " + SELECT_ENV);
        }
        return SelectionPolicy.MEASURED;
    }

    /**
     * The {@value #SELECT_BUDGET_PROPERTY} system property, else the {@value #SELECT_BUDGET_ENV}
     * environment variable ({@link #parseDuration}), else {@link #DEFAULT_SELECTION_BUDGET}.
     */
    public static Duration configuredSelectionBudget() {
        String property = System.getProperty(SELECT_BUDGET_PROPERTY);
        if (property != null && !property.isBlank()) {
            return parseDuration(property, "system property " + SELECT_BUDGET_PROPERTY);
        }
        String env = System.getenv(SELECT_BUDGET_ENV);
        if (env != null && !env.isBlank()) {
            return parseDuration(env, "environment variable " + SELECT_BUDGET_ENV);
        }
        return DEFAULT_SELECTION_BUDGET;
    }

    /**
     * A duration: a number with {@code ms}, {@code s} or {@code m}, seconds when it has no unit
     * ({@code 500ms}, {@code 10s}, {@code 2.5}).
     *
     * @throws InvalidSettingException naming {@code where} the text came from
     */
    public static Duration parseDuration(String text, String where) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        double scale = 1000;
        if (t.endsWith("ms")) {
            scale = 1;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("m")) {
            scale = 60_000;
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t.trim());
            if (v >= 0 && v * scale < 1e12) {
                return Duration.ofMillis(Math.round(v * scale));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidSettingException(where + " must be a duration like 500ms, 10s or 2m, got '" + text + "'");
    }

    /**
     * The {@value #THREADS_PROPERTY} system property, else the {@value #THREADS_ENV} environment
     * variable, else the number of processors.
     *
     * @throws InvalidSettingException when a setting is not a positive integer, naming where it came from
     */
    public static int configuredThreads() {
        String property = System.getProperty(THREADS_PROPERTY);
        if (property != null && !property.isBlank()) {
            return parse(property, "system property " + THREADS_PROPERTY);
        }
        String env = System.getenv(THREADS_ENV);
        if (env != null && !env.isBlank()) {
            return parse(env, "environment variable " + THREADS_ENV);
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * The {@value #MAX_MEMORY_PROPERTY} system property, else the {@value #MAX_MEMORY_ENV}
     * environment variable (bytes, or with a K, M, G or T suffix: {@code 512M}, {@code 4G}),
     * else {@link #machineMemoryLimit()}.
     *
     * @throws InvalidSettingException when a setting is not a size, naming where it came from
     */
    public static long configuredMaxMemory() {
        String property = System.getProperty(MAX_MEMORY_PROPERTY);
        if (property != null && !property.isBlank()) {
            return parseBytes(property, "system property " + MAX_MEMORY_PROPERTY);
        }
        String env = System.getenv(MAX_MEMORY_ENV);
        if (env != null && !env.isBlank()) {
            return parseBytes(env, "environment variable " + MAX_MEMORY_ENV);
        }
        return machineMemoryLimit();
    }

    /**
     * The default memory limit: half of the machine's physical memory, and no more than the
     * JVM's largest heap, since the host backends (reference, cpu-simd) keep their activations
     * on the heap.
     */
    public static long machineMemoryLimit() {
        long heap = Runtime.getRuntime().maxMemory();
        long physical = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getTotalMemorySize() : Long.MAX_VALUE;
        long limit = Math.min(physical / 2, heap == Long.MAX_VALUE ? Long.MAX_VALUE : heap);
        return Math.max(limit, 1);
    }

    /**
     * A size in bytes: digits with an optional K, M, G or T suffix (powers of 1024), an optional
     * trailing B, case-insensitive.
     *
     * @throws InvalidSettingException naming {@code where} the text came from
     */
    public static long parseBytes(String text, String where) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("B")) {
            t = t.substring(0, t.length() - 1);
        }
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = -1;
            }
            if (shift >= 0) {
                t = t.substring(0, t.length() - 1);
            } else {
                shift = 0;
            }
        }
        try {
            long n = Long.parseLong(t.trim());
            if (n >= 1 && n <= Long.MAX_VALUE >> shift) {
                return n << shift;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidSettingException(where + " must be a positive size in bytes (like 512M or 4G), got '"
                + text + "'");
    }

    /** A size for people: {@code 4.8 GB} (decimal units, as file managers show them) with the exact bytes. */
    public static String describeBytes(long bytes) {
        String[] units = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s (%,d bytes)", v, units[u], bytes);
    }

    private static int parse(String text, String where) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidSettingException(where + " must be a positive number of threads, got '" + text + "'");
    }
}
