package dev.kiln.onnxsuite;

import dev.kiln.models.onnx.OnnxFormatException;
import dev.kiln.models.onnx.OnnxImporter;
import dev.kiln.models.onnx.OnnxSummary;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The ONNX backend test cases installed by Debian's {@code libonnx-testdata} (ONNX 1.12): each
 * case folder holds {@code model.onnx} and {@code test_data_set_N/{input,output}_K.pb}. The
 * folder is the system property {@value #PROPERTY}, by default Debian's install location.
 */
final class OnnxTestData {
    static final String PROPERTY = "kiln.onnx.testdata";
    static final Path DEBIAN_LOCATION = Path.of("/usr/share/libonnx-testdata/data");

    private OnnxTestData() {
    }

    /** The suite's root folder; fails, naming the package to install, when it is not there. */
    static Path root() {
        String configured = System.getProperty(PROPERTY);
        Path root = configured == null || configured.isBlank() ? DEBIAN_LOCATION : Path.of(configured);
        if (!Files.isDirectory(root.resolve("node"))) {
            throw new AssertionError("the ONNX backend test data is missing: no " + root.resolve("node")
                    + ". Install it with 'apt-get install libonnx-testdata', or point -D" + PROPERTY
                    + " at a folder holding node/, pytorch-converted/, pytorch-operator/");
        }
        return root;
    }

    /**
     * One data set of one case, ready to run: the model to load (the original, or a copy whose
     * INT64 graph inputs are bound to the data set's values), and its inputs and outputs.
     *
     * @param name        "node/test_conv_with_strides_padding", plus " (set 1)" for later data sets
     * @param model       the model file to load
     * @param inputs      input .pb files for the graph inputs Kiln feeds, by name
     * @param outputs     expected output .pb files, in graph output order
     * @param boundInputs names of INT64 inputs bound as constants (empty for most cases)
     */
    record Case(String name, Path model, List<Path> inputs, List<String> inputNames, List<Path> outputs,
                List<String> outputNames, List<String> boundInputs) {
    }

    /** Every case folder under the root's sub-folders that holds a model, in a stable order. */
    static List<Path> caseFolders(Path root) {
        try (Stream<Path> suites = Files.list(root)) {
            List<Path> folders = new ArrayList<>();
            for (Path suite : suites.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> cases = Files.list(suite)) {
                    cases.filter(c -> Files.isRegularFile(c.resolve("model.onnx"))).sorted().forEach(folders::add);
                }
            }
            return folders;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The runnable data sets of a case. Kiln resolves shape-like inputs (a Reshape's shape) when
     * it loads a model, as exporters write them: constants. Backend cases that feed them as
     * graph inputs of type INT64 are therefore run with those inputs bound to the data set's
     * values as initializers, a model the ONNX semantics make equivalent for that data set.
     */
    static List<Case> dataSets(Path root, Path folder, Path scratch) {
        String caseName = root.relativize(folder).toString();
        ModelProto model = parse(folder.resolve("model.onnx"));
        GraphProto graph = model.getGraph();
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<ValueInfoProto> fed = graph.getInputList().stream().filter(v -> !initializers.contains(v.getName()))
                .toList();
        List<String> outputNames = graph.getOutputList().stream().map(ValueInfoProto::getName).toList();
        List<Path> sets;
        try (Stream<Path> s = Files.list(folder)) {
            sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Case> cases = new ArrayList<>();
        for (int set = 0; set < sets.size(); set++) {
            Path data = sets.get(set);
            String name = caseName + (set == 0 ? "" : " (set " + set + ")");
            List<Path> inputs = new ArrayList<>();
            List<String> inputNames = new ArrayList<>();
            List<String> bound = new ArrayList<>();
            ModelProto.Builder frozen = model.toBuilder();
            for (int i = 0; i < fed.size(); i++) {
                ValueInfoProto v = fed.get(i);
                Path file = data.resolve("input_" + i + ".pb");
                if (v.getType().getTensorType().getElemType() == TensorProto.DataType.INT64_VALUE
                        && Files.isRegularFile(file)) {
                    bind(frozen.getGraphBuilder(), v.getName(), parseTensor(file));
                    bound.add(v.getName());
                } else {
                    inputs.add(file);
                    inputNames.add(v.getName());
                }
            }
            List<Path> outputs = new ArrayList<>();
            for (int i = 0; i < outputNames.size(); i++) {
                outputs.add(data.resolve("output_" + i + ".pb"));
            }
            Path modelFile = folder.resolve("model.onnx");
            if (!bound.isEmpty()) {
                modelFile = scratch.resolve(caseName.replace('/', '_') + "_set" + set + ".onnx");
                write(modelFile, frozen.build());
            }
            cases.add(new Case(name, modelFile, inputs, inputNames, outputs, outputNames, bound));
        }
        return cases;
    }

    private static void bind(GraphProto.Builder graph, String name, TensorProto value) {
        for (int i = 0; i < graph.getInputCount(); i++) {
            if (graph.getInput(i).getName().equals(name)) {
                graph.removeInput(i);
                break;
            }
        }
        graph.addInitializer(value.toBuilder().setName(name));
    }

    /** What inspection says keeps a case from running (empty: it runs). */
    static List<String> unsupported(Case c) {
        try {
            OnnxSummary summary = OnnxImporter.inspect(c.model());
            return summary.unsupportedOps();
        } catch (OnnxFormatException e) {
            throw new AssertionError(c.name() + ": a valid ONNX file could not be inspected: " + e.getMessage(), e);
        }
    }

    private static ModelProto parse(Path file) {
        try {
            return ModelProto.parseFrom(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static TensorProto parseTensor(Path file) {
        try {
            return TensorProto.parseFrom(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, ModelProto model) {
        try {
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
