package dev.kiln.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many threads Kiln may use inside an executor, so that Kiln and Spark together never ask
 * for more cores than the executor was given.
 *
 * <p>The rule: an executor runs {@code spark.executor.cores / spark.task.cpus} tasks at once.
 * <ul>
 *   <li>Backends that compute on Kiln's host pool (cpu-simd, reference): the executor's one
 *       engine has a pool of {@code spark.executor.cores} threads (local mode: the N of
 *       {@code local[N]}), shared by all its tasks. A task's thread hands its run to the pool
 *       and waits (it does not compute meanwhile), and the run's loops use at most
 *       {@code threadsPerTask} workers ({@link dev.kiln.runtime.HostThreadPool#withParallelism};
 *       default {@code spark.task.cpus}). A task either decodes on its own thread or runs on at
 *       most its share of workers, so the executor's tasks together never ask for more threads
 *       than its cores.</li>
 *   <li>oneDNN runs on the calling task's thread with an OpenMP team of the engine's thread
 *       count, one team per concurrent task, so for it the engine's thread count is the task's
 *       share, {@code threadsPerTask} (default {@code spark.task.cpus}; Spark also sets
 *       {@code OMP_NUM_THREADS} to it on executors).</li>
 * </ul>
 */
final class ThreadRule {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\*|\\d+)(?:,\\d+)?]");

    private ThreadRule() {
    }

    /**
     * The engine's host thread count for this backend on this executor.
     *
     * @param threadsPerTask the transformer's param; 0 means {@code spark.task.cpus}
     */
    static int engineThreads(String backend, int threadsPerTask) {
        int perTask = perTask(threadsPerTask);
        return "onednn".equals(backend) ? perTask : Math.max(perTask, executorCores());
    }

    /** The threads one task's run may use: the param, or 0 for {@code spark.task.cpus}. */
    static int perTask(int threadsPerTask) {
        return threadsPerTask > 0 ? threadsPerTask : taskCpus();
    }

    /** {@code spark.task.cpus} of the running task, else of the configuration, else 1. */
    static int taskCpus() {
        TaskContext task = TaskContext.get();
        if (task != null) {
            return Math.max(1, task.cpus());
        }
        SparkEnv env = SparkEnv.get();
        return env == null ? 1 : Math.max(1, env.conf().getInt("spark.task.cpus", 1));
    }

    /** {@code spark.executor.cores}; in local mode the N of {@code local[N]}; else the JVM's processors. */
    static int executorCores() {
        SparkEnv env = SparkEnv.get();
        int processors = Runtime.getRuntime().availableProcessors();
        if (env == null) {
            return processors;
        }
        return executorCores(env.conf(), processors);
    }

    static int executorCores(SparkConf conf, int processors) {
        if (conf.contains("spark.executor.cores")) {
            return Math.max(1, conf.getInt("spark.executor.cores", processors));
        }
        String master = conf.get("spark.master", "");
        if (master.equals("local")) {
            return 1;
        }
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            return m.group(1).equals("*") ? processors : Math.max(1, Integer.parseInt(m.group(1)));
        }
        return processors;
    }
}
