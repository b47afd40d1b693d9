package dev.kiln.opencl;

import dev.kiln.Engine;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenClBackendTest {

    @Test
    void isFoundByServiceLoader() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof OpenClBackend)
                .toList();
        assertEquals(1, found.size());
        assertEquals("opencl", found.getFirst().id());
        assertEquals(100, found.getFirst().rank());
    }

    @Test
    void reportsUnavailableWithAReason() {
        Availability availability = new OpenClBackend().availability();
        assertFalse(availability.available());
        assertTrue(availability.reason().startsWith("opencl backend is not implemented yet"), availability.reason());
    }

    @Test
    void theEngineListsItAsUnavailableAndDoesNotChooseIt() {
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals("opencl")).findFirst()
                .orElseThrow();
        assertFalse(info.available());
        assertEquals(new OpenClBackend().availability().reason(), info.reason());
        assertEquals("reference", engine.autoChoice());
    }

    @Test
    void runsNothingYet() {
        OpenClBackend backend = new OpenClBackend();
        assertEquals(List.of(), backend.devices());
        Partition empty = new Partition(0, List.of(), List.of(), List.of(), Map.of(), Map.of());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> backend.compile(empty, dev.kiln.spi.CompileContext.standalone(Device.HOST_CPU)));
        assertTrue(e.getMessage().contains("not implemented"), e.getMessage());
    }
}
