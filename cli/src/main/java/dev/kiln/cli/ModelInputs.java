package dev.kiln.cli;

import dev.kiln.Engine;
import dev.kiln.InvalidInputException;
import dev.kiln.MemoryLimitException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ValueInfo;
import dev.kiln.models.image.ImageNetPreprocessing;
import dev.kiln.models.io.Npy;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The input tensors of one {@code kiln run}, by input name in the model's order, and where each
 * came from: {@code .npy} files, a photo, or seeded random values. Closing it closes them all.
 * Problems with the command line are {@link ParameterException}s; inputs that do not fit the
 * model are {@link InvalidInputException}s.
 */
final class ModelInputs implements AutoCloseable {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> sources = new LinkedHashMap<>();

    private ModelInputs() {
    }

    /**
     * Every input drawn from normal(0, 1): the first with {@code seed}, the next with
     * {@code seed + 1}, and so on; symbolic batch dimensions take {@code batch} (1 when null).
     */
    static ModelInputs random(Graph graph, Integer batch, long seed, Engine engine, CommandLine commandLine) {
        for (ValueInfo declared : graph.inputs()) {
            for (int axis = 1; axis < declared.shape().rank(); axis++) {
                if (declared.shape().dim(axis) == Shape.DYNAMIC) {
                    throw new ParameterException(commandLine, "input '" + declared.name() + "' is " + declared.shape()
                            + ": a random input can choose only its batch; give it with --input or --image");
                }
            }
        }
        Map<String, Shape> shapes = graph.inputShapesForBatch(batch == null ? 1 : batch);
        if (batch != null) {
            // Before making the inputs, which can take minutes for a batch no plan could run.
            try {
                engine.checkMemory(graph, shapes);
            } catch (MemoryLimitException e) {
                throw new ParameterException(commandLine, "--batch " + batch + ": " + e.getMessage());
            }
        }
        ModelInputs in = new ModelInputs();
        try {
            long inputSeed = seed;
            for (ValueInfo declared : graph.inputs()) {
                Shape shape = declared.shape();
                if (batch != null && shape.rank() > 0 && shape.dim(0) != Shape.DYNAMIC && shape.dim(0) != batch) {
                    throw new ParameterException(commandLine, "--batch " + batch + ": input '" + declared.name()
                            + "' has a fixed batch, " + shape);
                }
                in.add(declared.name(), RandomInput.normal(shapes.get(declared.name()), inputSeed),
                        "random normal(0, 1), seed " + inputSeed);
                inputSeed++;
            }
            return in;
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** The {@code --input [NAME=]FILE.npy} arguments, read and checked against the model's inputs. */
    static ModelInputs fromFiles(Graph graph, String modelName, List<String> arguments, Integer batch,
                                 CommandLine commandLine) throws IOException {
        Map<String, Path> files;
        try {
            files = InputFiles.assign(arguments, graph.inputs());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, e.getMessage());
        }
        ModelInputs in = new ModelInputs();
        try {
            for (Map.Entry<String, Path> e : files.entrySet()) {
                ValueInfo declared = graph.input(e.getKey());
                Path file = e.getValue();
                Tensor tensor = Npy.read(file);
                in.add(declared.name(), tensor, file.toString());
                Shape shape = tensor.shape();
                String forInput = graph.inputs().size() > 1 ? " for input '" + declared.name() + "'" : "";
                if (!declared.shape().accepts(shape)) {
                    throw new InvalidInputException(file + " holds a " + shape + " tensor, but model " + modelName
                            + " expects " + declared.shape() + forInput
                            + (shape.rank() == 4 ? " ([batch, channels, height, width])" : ""));
                }
                if (batch != null && declared.shape().dim(0) == Shape.DYNAMIC && batch != shape.dim(0)) {
                    throw new InvalidInputException(file + " holds a " + shape + " tensor, but --batch " + batch
                            + " disagrees with its batch of " + shape.dim(0) + " (leave --batch out)");
                }
            }
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /**
     * A photo through the ImageNet preprocessing, at the model's input size: its height and width
     * when they are fixed, else 224, the size the recipe is written for. Batch 1.
     */
    static ModelInputs fromImage(Graph graph, String modelName, Path image, CommandLine commandLine)
            throws IOException {
        if (graph.inputs().size() != 1) {
            throw new ParameterException(commandLine, "--image needs a model with one input; "
                    + InputFiles.list(graph.inputs()));
        }
        ValueInfo declared = graph.inputs().getFirst();
        Shape shape = declared.shape();
        if (shape.rank() != 4 || (shape.dim(1) != 3 && shape.dim(1) != Shape.DYNAMIC)) {
            throw new InvalidInputException("model " + modelName + " takes " + declared.name() + " " + shape
                    + ", but --image makes an RGB image [1, 3, H, W]");
        }
        int height = shape.dim(2) == Shape.DYNAMIC ? ImageNetPreprocessing.STANDARD_CROP : shape.dim(2);
        int width = shape.dim(3) == Shape.DYNAMIC ? ImageNetPreprocessing.STANDARD_CROP : shape.dim(3);
        ImageNetPreprocessing preprocessing = ImageNetPreprocessing.forInputSize(height, width);
        ModelInputs in = new ModelInputs();
        in.add(declared.name(), preprocessing.read(image), String.format(Locale.ROOT,
                "%s, ImageNet preprocessing (shorter side %d, centre crop %dx%d)", image,
                preprocessing.resizeShorterSide(), height, width));
        if (!shape.accepts(in.tensors.get(declared.name()).shape())) {
            in.close();
            throw new InvalidInputException("--image makes a [1, 3, " + height + ", " + width + "] input, but model "
                    + modelName + " expects " + shape);
        }
        return in;
    }

    private void add(String name, Tensor tensor, String source) {
        tensors.put(name, tensor);
        sources.put(name, source);
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    /** Where each input came from, for people: a file, a photo and its preprocessing, or a seed. */
    Map<String, String> sources() {
        return sources;
    }

    Map<String, Shape> shapes() {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        tensors.forEach((name, t) -> shapes.put(name, t.shape()));
        return shapes;
    }

    /** The batch: the first dimension of the first input (1 for a model without inputs). */
    int batch() {
        if (tensors.isEmpty()) {
            return 1;
        }
        Shape first = tensors.values().iterator().next().shape();
        return first.rank() == 0 ? 1 : first.dim(0);
    }

    @Override
    public void close() {
        tensors.values().forEach(Tensor::close);
    }
}
