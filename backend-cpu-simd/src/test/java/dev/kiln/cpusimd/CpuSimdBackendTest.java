package dev.kiln.cpusimd;

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

class CpuSimdBackendTest {

    @Test
    void isFoundByServiceLoader() {
        List<Backend> found = ServiceLoader.load(Backend.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(b -> b instanceof CpuSimdBackend)
                .toList();
        assertEquals(1, found.size());
        assertEquals("cpu-simd", found.getFirst().id());
        assertEquals(200, found.getFirst().rank());
    }

    @Test
    void reportsUnavailableWithAReason() {
        Availability availability = new CpuSimdBackend().availability();
        assertFalse(availability.available());
        assertTrue(availability.reason().startsWith("cpu-simd backend is not implemented yet"), availability.reason());
    }

    @Test
    void reasonSaysHowToAddTheVectorModuleOnlyWhenItIsMissing() {
        assertTrue(CpuSimdBackend.reason(false).contains("run with --add-modules jdk.incubator.vector"));
        assertFalse(CpuSimdBackend.reason(true).contains("--add-modules"));
        assertTrue(CpuSimdBackend.reason(true).contains("not implemented yet"));
    }

    @Test
    void reasonMatchesThisJvm() {
        boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(CpuSimdBackend.reason(present), new CpuSimdBackend().availability().reason());
    }

    @Test
    void theEngineListsItAsUnavailableAndDoesNotChooseIt() {
        Engine engine = Engine.create();
        Engine.BackendInfo info = engine.backends().stream().filter(b -> b.id().equals("cpu-simd")).findFirst()
                .orElseThrow();
        assertFalse(info.available());
        assertEquals(new CpuSimdBackend().availability().reason(), info.reason());
        assertEquals("reference", engine.autoChoice());
    }

    @Test
    void runsNothingYet() {
        CpuSimdBackend backend = new CpuSimdBackend();
        assertEquals(List.of(), backend.devices());
        Partition empty = new Partition(0, List.of(), List.of(), List.of(), Map.of(), Map.of());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> backend.compile(empty, dev.kiln.spi.CompileContext.standalone(Device.HOST_CPU)));
        assertTrue(e.getMessage().contains("not implemented"), e.getMessage());
    }
}
