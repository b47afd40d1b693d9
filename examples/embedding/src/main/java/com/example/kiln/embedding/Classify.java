package com.example.kiln.embedding;

import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.image.ImageNetLabels;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * Loads an ONNX classifier, runs it from 8 threads at once (one compiled model is safe to share)
 * and prints the top-5 classes of a synthetic image. Every thread classifies the same image, so
 * every thread must get the same answer: the program fails otherwise.
 *
 * <p>Usage: {@code Classify model.onnx}
 */
public final class Classify {
    private static final int THREADS = 8;
    private static final int RUNS_PER_THREAD = 4;

    private Classify() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Classify MODEL.onnx");
            System.exit(2);
        }
        try (CompiledModel model = Engine.load(Path.of(args[0]))) {
            ValueInfo input = model.inputs().getFirst();
            ValueInfo output = model.outputs().getFirst();
            System.out.println("model    " + args[0] + " on " + model.backend() + ": " + input + " -> " + output
                    + " (" + output.elementType() + ")");
            float[] image = gradientImage(oneImage(input.shape()));
            List<float[]> answers = runFromThreads(model, oneImage(input.shape()), image);
            for (float[] answer : answers) {
                if (!Arrays.equals(answer, answers.getFirst())) {
                    throw new IllegalStateException("threads disagree on the same image");
                }
            }
            System.out.println("runs     " + answers.size() + " from " + THREADS + " threads, all equal");
            printTopFive(answers.getFirst());
        }
    }

    /** The input's shape for one image: the batch axis, marked open, set to 1. */
    private static Shape oneImage(Shape declared) {
        int[] dims = declared.dims();
        dims[0] = 1;
        return Shape.of(dims);
    }

    /** A smooth, deterministic test image in roughly the range of normalised pixels. */
    private static float[] gradientImage(Shape shape) {
        float[] pixels = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) Math.sin(i * 0.001) * 1.5f;
        }
        return pixels;
    }

    private static List<float[]> runFromThreads(CompiledModel model, Shape shape, float[] image) throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS * RUNS_PER_THREAD; t++) {
                futures.add(callers.submit(() -> {
                    try (Tensor x = Tensor.allocate(shape)) {
                        x.copyFrom(image);
                        try (Tensor y = model.run(x)) {
                            return y.toFloatArray();
                        }
                    }
                }));
            }
            List<float[]> answers = new ArrayList<>();
            for (Future<float[]> f : futures) {
                answers.add(f.get());
            }
            return answers;
        } finally {
            callers.shutdown();
        }
    }

    private static void printTopFive(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        double total = sum;
        float top = max;
        IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -logits[i]))
                .limit(5)
                .forEach(i -> System.out.printf(Locale.ROOT, "top-5    %6.2f%%  %s (%d)%n",
                        100 * Math.exp(logits[i] - top) / total,
                        logits.length == ImageNetLabels.COUNT ? ImageNetLabels.of(i) : "class", i));
    }
}
