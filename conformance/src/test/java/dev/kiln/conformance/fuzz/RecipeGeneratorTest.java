package dev.kiln.conformance.fuzz;

import dev.kiln.graph.Graph;
import dev.kiln.models.onnx.OnnxImporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generator's graphs are valid by construction (each imports), cover every op the importer
 * converts, are reproducible from their seed, and survive their text form.
 */
class RecipeGeneratorTest {

    @Test
    void everyGeneratedGraphImportsAndTogetherTheyCoverEveryImportedOp(@TempDir Path dir) throws IOException {
        Set<String> ops = new TreeSet<>();
        Path file = dir.resolve("m.onnx");
        for (int i = 0; i < 400; i++) {
            GraphRecipe r = RecipeGenerator.generate(11, i, 12);
            r.nodes().forEach(n -> ops.add(n.op()));
            try (RecipeMaterializer.Materialized m = RecipeMaterializer.materialize(r)) {
                try (OutputStream out = Files.newOutputStream(file)) {
                    m.model().writeTo(out);
                }
                try (Graph g = OnnxImporter.load(file)) {
                    assertEquals(m.outputs(), g.outputs(), r::toLine);
                } catch (RuntimeException e) {
                    throw new AssertionError("case " + i + " does not import: " + e.getMessage() + "\n" + r.toLine(), e);
                }
            }
        }
        Set<String> missing = new TreeSet<>(Fuzzer.IMPORTED_OPS);
        missing.removeAll(ops);
        assertEquals(Set.of(), missing, "ops the importer converts that no graph had");
    }

    @Test
    void aCaseIsTheSameGraphEveryTimeAndTheNextOneIsAnother() {
        assertEquals(RecipeGenerator.generate(5, 17, 12), RecipeGenerator.generate(5, 17, 12));
        assertNotEquals(RecipeGenerator.generate(5, 17, 12).toLine(), RecipeGenerator.generate(5, 18, 12).toLine());
    }

    @Test
    void theTextFormReadsBackExactly() {
        for (int i = 0; i < 50; i++) {
            GraphRecipe r = RecipeGenerator.generate(3, i, 16);
            assertEquals(r.toLine(), GraphRecipe.parse(r.toLine()).toLine());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GraphRecipe.parse("hello"));
        assertTrue(e.getMessage().contains("not a fuzz recipe"), e.getMessage());
    }

    @Test
    void aGraphHasAtMostTheNodesAskedFor() {
        for (int i = 0; i < 100; i++) {
            assertTrue(RecipeGenerator.generate(9, i, 4).nodes().size() <= 4);
        }
    }
}
