package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.Tensor;
import dev.kiln.conformance.verify.FailureReducer;
import dev.kiln.conformance.verify.Reduction;
import dev.kiln.graph.Graph;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.OnnxExporter;
import dev.kiln.models.onnx.OnnxImporter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a shrunk finding as a folder anyone can replay: {@code model.onnx} with its inputs as
 * {@code .npy}, {@code recipe.txt} (the generator's text of the graph, which {@code kiln fuzz
 * --replay} runs again through the same check) and {@code replay.txt}, the commands: {@code kiln
 * verify --backends B} for a backend finding, {@code kiln verify --optimizer} for an optimizer one. For a backend
 * finding the graph goes one step smaller where it can: the first divergent node alone, its inputs
 * the values the reference backend computed for them ({@link FailureReducer}); the shrunk graph is
 * kept beside it as {@code graph.onnx}.
 */
public final class FindingWriter {
    private final Engine engine;

    public FindingWriter(Engine engine) {
        this.engine = engine;
    }

    /** Writes the folder; returns a line saying what it holds. */
    public String write(GraphRecipe recipe, String target, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("recipe.txt"), target + "\n" + recipe.toLine() + "\n");
        try (RecipeMaterializer.Materialized m = RecipeMaterializer.materialize(recipe)) {
            Path graphFile = dir.resolve(target.equals(CaseChecker.OPTIMIZER) ? "model.onnx" : "graph.onnx");
            try (OutputStream out = Files.newOutputStream(graphFile)) {
                m.model().writeTo(out);
            }
            Npy.write(dir.resolve("x.npy"), m.input());
            String replay = "kiln fuzz --replay " + dir;
            if (target.equals(CaseChecker.OPTIMIZER)) {
                String verify = "kiln verify --optimizer --model " + graphFile + " --input " + RecipeMaterializer.INPUT
                        + "=" + dir.resolve("x.npy");
                Files.writeString(dir.resolve("replay.txt"), verify + "\n" + replay + "\n");
                return recipe.nodes().size() + " node(s); again: " + verify;
            }
            String kept = recipe.nodes().size() + " node(s)";
            Path model = dir.resolve("model.onnx");
            StringBuilder inputs = new StringBuilder();
            try (Graph graph = OnnxImporter.load(graphFile)) {
                Optional<Reduction> reduced = new FailureReducer(engine).reduce(graph,
                        Map.of(RecipeMaterializer.INPUT, m.input()), target);
                if (reduced.isPresent() && reduced.get().graph().nodes().size() <= recipe.nodes().size()) {
                    try (Reduction r = reduced.get()) {
                        OnnxExporter.write(r.graph(), model);
                        int i = 0;
                        for (Map.Entry<String, Tensor> e : r.inputs().entrySet()) {
                            Path npy = dir.resolve("input" + i++ + ".npy");
                            Npy.write(npy, e.getValue());
                            inputs.append(" --input ").append(e.getKey()).append('=').append(npy);
                        }
                        kept = r.description();
                    }
                } else {
                    reduced.ifPresent(Reduction::close);
                    Files.copy(graphFile, model, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    inputs.append(" --input ").append(RecipeMaterializer.INPUT).append('=').append(dir.resolve("x.npy"));
                }
            }
            String verify = "kiln verify --model " + model + " --backends " + target + inputs;
            Files.writeString(dir.resolve("replay.txt"), verify + "\n" + replay + "\n");
            return kept + "; again: " + verify;
        }
    }
}
