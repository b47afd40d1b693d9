package dev.kiln.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OutputFileNamesTest {

    @Test
    void safeNamesAreKept() {
        assertEquals(Map.of("logits", "logits.npy", "out.1-b_c", "out.1-b_c.npy"),
                OutputFileNames.of(List.of("logits", "out.1-b_c")));
    }

    @Test
    void charactersAFileNameCannotHoldBecomeUnderscores() {
        assertEquals("_layer1_Relu_output_0.npy", OutputFileNames.of(List.of("/layer1/Relu_output_0")).values()
                .iterator().next());
        assertEquals("logits_0.npy", OutputFileNames.of(List.of("logits:0")).get("logits:0"));
        assertEquals("_..npy", OutputFileNames.of(List.of("..")).get(".."), "no parent folder");
        assertEquals("_hidden.npy", OutputFileNames.of(List.of(".hidden")).get(".hidden"));
        assertEquals("_.npy", OutputFileNames.of(List.of("")).get(""));
        assertEquals("caf_.npy", OutputFileNames.of(List.of("café")).get("café"));
    }

    @Test
    void namesThatCollideGetNumbers() {
        Map<String, String> files = OutputFileNames.of(List.of("a/b", "a:b", "A_B", "a_b-2"));
        assertEquals(List.of("a_b.npy", "a_b-2.npy", "A_B-3.npy", "a_b-2-2.npy"), List.copyOf(files.values()));
    }
}
