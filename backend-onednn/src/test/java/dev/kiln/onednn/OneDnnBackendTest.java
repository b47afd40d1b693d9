package dev.kiln.onednn;

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

class OneDnnBackendTest {

    @Test
    void isFoundByServiceLoader() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof OneDnnBackend)
                .toList();
        assertEquals(1, found.size());
        assertEquals("onednn", found.getFirst().id());
        assertEquals(300, found.getFirst().rank());
    }

    @Test
    void reportsUnavailableWithAReason() {
        Availability availability = new OneDnnBackend().availability();
        assertFalse(availability.available());
        assertTrue(availability.reason().startsWith("onednn backend is not implemented yet"), availability.reason());
    }

    @Test
    void theEngineListsItAsUnavailableAndDoesNotChooseIt() {
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals("onednn")).findFirst()
                .orElseThrow();
        assertFalse(info.available());
        assertEquals(new OneDnnBackend().availability().reason(), info.reason());
        assertEquals("reference", engine.autoChoice());
    }

    @Test
    void runsNothingYet() {
        OneDnnBackend backend = new OneDnnBackend();
        assertEquals(List.of(), backend.devices());
        Partition empty = new Partition(0, List.of(), List.of(), List.of(), Map.of(), Map.of());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> backend.compile(empty, dev.kiln.spi.CompileContext.standalone(Device.HOST_CPU)));
        assertTrue(e.getMessage().contains("not implemented"), e.getMessage());
    }

    @Test
    void reasonSaysHowToEnableNativeAccessOnlyWhenItIsOff() {
        assertTrue(OneDnnBackend.reason(false).contains("--enable-native-access=ALL-UNNAMED"));
        assertFalse(OneDnnBackend.reason(true).contains("--enable-native-access"));
        assertEquals(OneDnnBackend.reason(OneDnnBackend.class.getModule().isNativeAccessEnabled()),
                new OneDnnBackend().availability().reason());
    }
}
