package dev.kiln.spark;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.SelectionPolicy;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.models.Models;
import dev.kiln.models.image.ImageNetPreprocessing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Kiln without Spark, as {@code kiln run --image} does it: each file through
 * {@link ImageNetPreprocessing#read(Path)}, a batch through {@link CompiledModel#run(Tensor)}.
 * The tests' oracle for the transformer.
 */
final class DirectRun implements AutoCloseable {
    private final Graph graph;
    private final CompiledModel model;
    private final ImageNetPreprocessing preprocessing;

    DirectRun(String modelName, long seed, String backend, int threads) {
        graph = Models.byName(modelName).build(seed);
        model = Engine.create(EngineOptions.defaults().withThreads(threads).withSelection(SelectionPolicy.RANK))
                .compile(graph, backend);
        int[] dims = graph.inputs().getFirst().shape().dims();
        preprocessing = ImageNetPreprocessing.forInputSize(dims[2], dims[3]);
    }

    /** Logits per file, the files run as one batch. */
    List<float[]> runImages(List<Path> files) throws IOException {
        List<float[]> items = new ArrayList<>();
        for (Path file : files) {
            try (Tensor t = preprocessing.read(file)) {
                items.add(t.toFloatArray());
            }
        }
        return run(items, new int[]{3, preprocessing.cropHeight(), preprocessing.cropWidth()});
    }

    /** Logits per item, the items run as one batch. */
    List<float[]> run(List<float[]> items, int[] itemShape) {
        int[] dims = new int[itemShape.length + 1];
        dims[0] = items.size();
        System.arraycopy(itemShape, 0, dims, 1, itemShape.length);
        try (Tensor batch = Tensor.allocate(Shape.of(dims))) {
            int size = items.getFirst().length;
            for (int i = 0; i < items.size(); i++) {
                batch.copyFrom(items.get(i), 0, (long) i * size, size);
            }
            try (Tensor out = model.run(batch)) {
                int classes = (int) (out.elementCount() / items.size());
                List<float[]> logits = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    float[] row = new float[classes];
                    out.copyTo((long) i * classes, row, 0, classes);
                    logits.add(row);
                }
                return logits;
            }
        }
    }

    @Override
    public void close() {
        model.close();
        graph.close();
    }
}
