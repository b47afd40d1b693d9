package dev.kiln.nativelib;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeEnvironmentTest {

    @Test
    void setIfAbsentSetsOnceAndNeverOverwrites() {
        assertTrue(NativeEnvironment.isAvailable(), "getenv and setenv in the C library of "
                + System.getProperty("os.name"));
        String name = "KILN_TEST_" + UUID.randomUUID().toString().replace('-', '_');
        assertEquals(Optional.empty(), NativeEnvironment.get(name));
        assertTrue(NativeEnvironment.setIfAbsent(name, "first"));
        assertEquals(Optional.of("first"), NativeEnvironment.get(name));
        assertFalse(NativeEnvironment.setIfAbsent(name, "second"));
        assertEquals(Optional.of("first"), NativeEnvironment.get(name));
    }

    @Test
    void itSeesWhatTheProcessStartedWith() {
        assertEquals(Optional.ofNullable(System.getenv("PATH")), NativeEnvironment.get("PATH"));
    }
}
