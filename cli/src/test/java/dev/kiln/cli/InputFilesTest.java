package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.graph.ValueInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputFilesTest {
    private static final List<ValueInfo> ONE = List.of(new ValueInfo("x", Shape.of(-1, 3, 8, 8)));
    private static final List<ValueInfo> TWO = List.of(new ValueInfo("a", Shape.of(-1, 2)),
            new ValueInfo("b", Shape.of(-1, 3)));

    @TempDir
    Path dir;

    @Test
    void aOneInputModelTakesAPlainFileOrItsName() {
        assertEquals(Map.of("x", Path.of("in.npy")), InputFiles.assign(List.of("in.npy"), ONE));
        assertEquals(Map.of("x", Path.of("in.npy")), InputFiles.assign(List.of("x=in.npy"), ONE));
    }

    @Test
    void namedFilesComeBackInTheModelsOrder() {
        Map<String, Path> files = InputFiles.assign(List.of("b=2.npy", "a=dir/1.npy"), TWO);
        assertEquals(List.of("a", "b"), List.copyOf(files.keySet()));
        assertEquals(Path.of("dir/1.npy"), files.get("a"));
    }

    @Test
    void aFileNameWithAnEqualsSignWorksWhenTheFileExists() throws IOException {
        Path odd = Files.writeString(dir.resolve("y=1.npy"), "");
        assertEquals(Map.of("x", odd), InputFiles.assign(List.of(odd.toString()), ONE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputFiles.assign(List.of(dir.resolve("z=1.npy").toString()), ONE));
        assertTrue(e.getMessage().contains("the model's inputs: x [?, 3, 8, 8]"), e.getMessage());
    }

    @Test
    void mistakesAreNamedWithTheModelsInputs() {
        String list = "the model's inputs: a [?, 2], b [?, 3]";
        assertMessage(List.of("a=1.npy"), TWO, "no --input for 'b'", list);
        assertMessage(List.of("a=1.npy", "b=2.npy", "c=3.npy"), TWO, "the model has no input 'c'", list);
        assertMessage(List.of("1.npy", "2.npy"), TWO, "the model has 2 inputs: give each as --input NAME=FILE.npy",
                list);
        assertMessage(List.of("a=1.npy", "a=2.npy"), TWO, "--input for 'a' is given twice");
        assertMessage(List.of("1.npy", "2.npy"), ONE, "the model has one input but --input is given 2 times");
    }

    private static void assertMessage(List<String> arguments, List<ValueInfo> inputs, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputFiles.assign(arguments, inputs));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }
}
