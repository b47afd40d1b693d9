package dev.kiln.spark;

import java.io.Serializable;

/**
 * The transformer's params as a task needs them: the values travel to executors with the task,
 * the model does not.
 *
 * @param inputShape     one item's shape for {@code array<float>} input; null or empty: the model's
 * @param threadsPerTask 0 for {@code spark.task.cpus}
 */
record InferenceSettings(ModelSource source, String backend, String selection, int batchSize, int topK,
                         int threadsPerTask, int[] inputShape) implements Serializable {
}
