package dev.kiln.spark;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ValueInfo;
import dev.kiln.runtime.HostThreadPool;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.io.Serial;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * What a task runs over its partition: rows in order, in groups of the batch size, each group's
 * good rows through the executor's compiled model in one run, each row out with its input
 * columns, its logits, its top classes and its error (null when it has none). A row whose input
 * is bad gets null outputs and the reason; a model that cannot be had (unknown, unreadable, on
 * an unavailable backend) fails the task with Kiln's message. The model is fetched on the first
 * row, so an empty partition compiles nothing. Only this object's settings travel to executors,
 * never a model.
 */
final class PartitionInference implements MapPartitionsFunction<Row, Row> {
    @Serial
    private static final long serialVersionUID = 1L;

    private final InferenceSettings settings;
    private final int inputColumn;
    private final int pathColumn;
    private final boolean imageBytes;

    PartitionInference(InferenceSettings settings, int inputColumn, int pathColumn, boolean imageBytes) {
        this.settings = settings;
        this.inputColumn = inputColumn;
        this.pathColumn = pathColumn;
        this.imageBytes = imageBytes;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        if (!rows.hasNext()) {
            return rows;
        }
        String backend = settings.backend();
        ExecutorModels.Loaded loaded = ExecutorModels.get(settings.source(), backend, settings.selection(),
                ThreadRule.engineThreads(backend, settings.threadsPerTask()));
        Shape itemShape = itemShape(loaded);
        RowInput input = imageBytes ? RowInput.images(itemShape, inputColumn, pathColumn)
                : RowInput.tensors(itemShape, inputColumn);
        return new Batches(rows, loaded, input, itemShape, ThreadRule.perTask(settings.threadsPerTask()));
    }

    /** The model's input without its batch axis, checked against the declared shape when there is one. */
    private Shape itemShape(ExecutorModels.Loaded loaded) {
        List<ValueInfo> inputs = loaded.graph().inputs();
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("the Spark transformer runs models with one input; " + settings.source().model()
                    + " has " + inputs.size());
        }
        int[] dims = inputs.getFirst().shape().dims();
        Shape model = Shape.of(Arrays.copyOfRange(dims, 1, dims.length));
        int[] declared = settings.inputShape();
        if (declared != null && declared.length > 0) {
            if (!compatible(declared, model.dims())) {
                throw new IllegalArgumentException("inputShape " + Arrays.toString(declared) + " does not match model "
                        + settings.source().model() + "'s input " + inputs.getFirst().shape() + " (batch axis first)");
            }
            return Shape.of(declared);
        }
        for (int d : model.dims()) {
            if (d == Shape.DYNAMIC) {
                throw new IllegalArgumentException("model " + settings.source().model() + "'s input " + inputs.getFirst().shape()
                        + " has symbolic dimensions besides the batch: set inputShape");
            }
        }
        return model;
    }

    private static boolean compatible(int[] declared, int[] model) {
        if (declared.length != model.length) {
            return false;
        }
        for (int i = 0; i < model.length; i++) {
            if (declared[i] < 1 || (model[i] != Shape.DYNAMIC && model[i] != declared[i])) {
                return false;
            }
        }
        return true;
    }

    /** Pulls a batch of rows, runs it, and hands its rows out before pulling the next. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final ExecutorModels.Loaded loaded;
        private final RowInput input;
        private final Shape itemShape;
        private final int threads;
        private final List<Row> ready = new ArrayList<>();
        private int next;

        Batches(Iterator<Row> rows, ExecutorModels.Loaded loaded, RowInput input, Shape itemShape, int threads) {
            this.rows = rows;
            this.loaded = loaded;
            this.input = input;
            this.itemShape = itemShape;
            this.threads = threads;
        }

        @Override
        public boolean hasNext() {
            if (next < ready.size()) {
                return true;
            }
            ready.clear();
            next = 0;
            if (!rows.hasNext()) {
                return false;
            }
            runBatch();
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.get(next++);
        }

        private void runBatch() {
            List<Row> batch = new ArrayList<>(settings.batchSize());
            List<float[]> items = new ArrayList<>(settings.batchSize());
            String[] errors = new String[settings.batchSize()];
            while (batch.size() < settings.batchSize() && rows.hasNext()) {
                Row row = rows.next();
                try {
                    items.add(input.read(row));
                } catch (RowInput.BadRow e) {
                    items.add(null);
                    errors[batch.size()] = e.getMessage();
                }
                batch.add(row);
            }
            float[][] logits = run(items);
            for (int i = 0; i < batch.size(); i++) {
                ready.add(withOutputs(batch.get(i), logits[i], errors[i]));
            }
        }

        /** Logits per item of {@code items}; null where the item is null. */
        private float[][] run(List<float[]> items) {
            float[][] logits = new float[items.size()][];
            int good = (int) items.stream().filter(v -> v != null).count();
            if (good == 0) {
                return logits;
            }
            int[] dims = new int[itemShape.rank() + 1];
            dims[0] = good;
            System.arraycopy(itemShape.dims(), 0, dims, 1, itemShape.rank());
            int itemSize = itemShape.elementCountInt();
            try (Tensor batch = Tensor.allocate(Shape.of(dims))) {
                long offset = 0;
                for (float[] item : items) {
                    if (item != null) {
                        batch.copyFrom(item, 0, offset, itemSize);
                        offset += itemSize;
                    }
                }
                // The executor's pool has all its cores; this task's run keeps to its share.
                try (Tensor out = HostThreadPool.withParallelism(threads, () -> loaded.model().run(batch))) {
                    int classes = (int) (out.elementCount() / good);
                    int k = 0;
                    for (int i = 0; i < items.size(); i++) {
                        if (items.get(i) != null) {
                            logits[i] = new float[classes];
                            out.copyTo((long) k * classes, logits[i], 0, classes);
                            k++;
                        }
                    }
                }
            }
            return logits;
        }

        private Row withOutputs(Row row, float[] logits, String error) {
            int width = row.length();
            Object[] values = new Object[width + 3];
            for (int i = 0; i < width; i++) {
                values[i] = row.get(i);
            }
            values[width] = logits;
            values[width + 1] = logits == null ? null : TopClassRows.of(logits, settings.topK());
            values[width + 2] = error;
            return RowFactory.create(values);
        }
    }
}
