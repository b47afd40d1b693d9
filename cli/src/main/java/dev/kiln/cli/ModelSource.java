package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.models.ModelSpec;
import dev.kiln.models.Models;
import dev.kiln.models.onnx.OnnxImporter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongFunction;

/**
 * What {@code --model} names: a model of the zoo, or a {@code .onnx} file. This is the one place
 * that knows the kinds of model a command accepts.
 *
 * @param name    how the model is shown: the zoo name or the file name
 * @param builder builds a fresh graph (owning its weights) from a seed; a file ignores the seed
 */
record ModelSource(String name, LongFunction<Graph> builder) {

    /**
     * Resolves a {@code --model} argument.
     *
     * @throws ParameterException for a name that is not in the zoo
     */
    static ModelSource resolve(String argument, CommandLine commandLine) {
        // A path with a folder in it is a file whatever its name (/dev/zero is refused as a device, not as an unknown model).
        boolean pathLike = argument.contains("/") || argument.contains(java.io.File.separator);
        if (argument.toLowerCase(Locale.ROOT).endsWith(".onnx") || pathLike && Files.exists(Path.of(argument))) {
            return onnx(Path.of(argument));
        }
        ModelSpec spec;
        try {
            spec = Models.byName(argument);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(commandLine, e.getMessage());
        }
        return fromZoo(spec);
    }

    static ModelSource fromZoo(ModelSpec spec) {
        return new ModelSource(spec.name(), spec::build);
    }

    private static ModelSource onnx(Path file) {
        return new ModelSource(String.valueOf(file.getFileName()), seed -> OnnxImporter.load(file));
    }

    /** A fresh graph; the caller closes it. */
    Graph build(long seed) {
        return builder.apply(seed);
    }
}
