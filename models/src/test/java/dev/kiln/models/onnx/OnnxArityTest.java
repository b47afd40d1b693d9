package dev.kiln.models.onnx;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every op the importer converts has its input and output counts checked, before its converter runs. */
class OnnxArityTest {
    @TempDir
    Path dir;

    @Test
    void everyImportedOpHasAnArity() {
        for (String op : OnnxOps.opTypes()) {
            assertNotNull(OnnxArity.of(op), op + " is imported but its input and output counts are not checked");
        }
    }

    @Test
    void extraInputsAreRefusedNotIgnored() throws IOException {
        Path file = TestModel.opset(13).input("x", 1, 2).node("Add", List.of("x", "x", "x"), List.of("y"))
                .output("y").save(dir.resolve("add3.onnx"));
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> OnnxImporter.load(file));
        assertTrue(e.getMessage().contains("(Add, opset 13): has 3 inputs, but Add takes 2"),
                e.getMessage());
    }
}
