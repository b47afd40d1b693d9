package dev.kiln;

import java.lang.management.ManagementFactory;
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
 */
public record EngineOptions(int threads, int cachedPlans, long maxMemoryBytes, long maxTensorBytes) {
    public static final String THREADS_ENV = "KILN_THREADS";
    public static final String THREADS_PROPERTY = "kiln.threads";
    public static final String MAX_MEMORY_ENV = "KILN_MAX_MEMORY";
    public static final String MAX_MEMORY_PROPERTY = "kiln.max.memory";
    public static final int DEFAULT_CACHED_PLANS = 8;

    public EngineOptions {
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

    public EngineOptions withThreads(int n) {
        return new EngineOptions(n, cachedPlans, maxMemoryBytes, maxTensorBytes);
    }

    public EngineOptions withCachedPlans(int n) {
        return new EngineOptions(threads, n, maxMemoryBytes, maxTensorBytes);
    }

    /** A memory limit for a whole run; the single-tensor limit becomes the smaller of the two. */
    public EngineOptions withMaxMemoryBytes(long bytes) {
        return new EngineOptions(threads, cachedPlans, bytes, Math.min(maxTensorBytes, bytes));
    }

    public EngineOptions withMaxTensorBytes(long bytes) {
        return new EngineOptions(threads, cachedPlans, maxMemoryBytes, bytes);
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
