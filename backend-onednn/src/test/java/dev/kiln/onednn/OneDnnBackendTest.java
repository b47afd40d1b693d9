package dev.kiln.onednn;

import org.junit.jupiter.api.Test;

class OneDnnBackendTest {
    @Test
    void placeholder() {
    }
}
