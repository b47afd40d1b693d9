package dev.kiln;

/**
 * How an engine runs, whatever it compiles: how many host threads its pool has (all of the
 * engine's compiled models and host backends share it) and how many input-shape plans a
 * compiled model keeps before it drops the least recently used.
 *
 * @param threads     host threads; from {@value #THREADS_PROPERTY} or {@value #THREADS_ENV} by default, else all cores
 * @param cachedPlans plans (one per distinct set of input shapes) a compiled model keeps
 */
public record EngineOptions(int threads, int cachedPlans) {
    public static final String THREADS_ENV = "KILN_THREADS";
    public static final String THREADS_PROPERTY = "kiln.threads";
    public static final int DEFAULT_CACHED_PLANS = 8;

    public EngineOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (cachedPlans < 1) {
            throw new IllegalArgumentException("cachedPlans must be at least 1, got " + cachedPlans);
        }
    }

    /** Threads as configured outside the code, else every core. */
    public static EngineOptions defaults() {
        return new EngineOptions(configuredThreads(), DEFAULT_CACHED_PLANS);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(n, cachedPlans);
    }

    public EngineOptions withCachedPlans(int n) {
        return new EngineOptions(threads, n);
    }

    /**
     * The {@value #THREADS_PROPERTY} system property, else the {@value #THREADS_ENV} environment
     * variable, else the number of processors.
     *
     * @throws IllegalArgumentException when a setting is not a positive integer, naming where it came from
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

    private static int parse(String text, String where) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(where + " must be a positive number of threads, got '" + text + "'");
    }
}
