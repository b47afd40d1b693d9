package dev.kiln.cli;

import dev.kiln.graph.ValueInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Which {@code .npy} file feeds which model input, from the {@code --input} arguments: each is
 * {@code NAME=FILE} or, for a model with one input, just {@code FILE}. A file name that itself
 * holds {@code =} works as a plain {@code FILE} when the part before the first {@code =} names no
 * input of a one-input model and the whole argument is an existing file.
 */
final class InputFiles {
    private InputFiles() {
    }

    /**
     * Files by model input name, in the model's input order, one for every input.
     *
     * @throws IllegalArgumentException for an unknown, repeated or missing input name, or a plain
     *                                  file for a model with several inputs; the message lists the
     *                                  model's inputs
     */
    static Map<String, Path> assign(List<String> arguments, List<ValueInfo> inputs) {
        Map<String, Path> byName = new LinkedHashMap<>();
        boolean oneInput = inputs.size() == 1 && arguments.size() == 1;
        for (String argument : arguments) {
            int equals = argument.indexOf('=');
            String name = equals < 0 ? null : argument.substring(0, equals);
            boolean named = name != null && isInput(name, inputs);
            boolean plainFile = !named && oneInput && (name == null || Files.exists(Path.of(argument)));
            if (!named && !plainFile) {
                throw new IllegalArgumentException(name != null
                        ? "--input " + argument + ": the model has no input '" + name + "'; " + list(inputs)
                        : describeUnnamed(arguments, inputs));
            }
            String input = named ? name : inputs.getFirst().name();
            Path file = Path.of(named ? argument.substring(equals + 1) : argument);
            if (byName.put(input, file) != null) {
                throw new IllegalArgumentException("--input for '" + input + "' is given twice");
            }
        }
        for (ValueInfo v : inputs) {
            if (!byName.containsKey(v.name())) {
                throw new IllegalArgumentException("no --input for '" + v.name() + "' (give every input as"
                        + " --input NAME=FILE.npy, or none for random inputs); " + list(inputs));
            }
        }
        Map<String, Path> inModelOrder = new LinkedHashMap<>();
        inputs.forEach(v -> inModelOrder.put(v.name(), byName.get(v.name())));
        return inModelOrder;
    }

    private static String describeUnnamed(List<String> arguments, List<ValueInfo> inputs) {
        return inputs.size() == 1
                ? "the model has one input but --input is given " + arguments.size() + " times; " + list(inputs)
                : "the model has " + inputs.size() + " inputs: give each as --input NAME=FILE.npy; " + list(inputs);
    }

    private static boolean isInput(String name, List<ValueInfo> inputs) {
        return inputs.stream().anyMatch(v -> v.name().equals(name));
    }

    /** The model's inputs, for messages. */
    static String list(List<ValueInfo> inputs) {
        return "the model's inputs: " + inputs.stream().map(v -> v.name() + " " + v.shape())
                .collect(Collectors.joining(", "));
    }
}
