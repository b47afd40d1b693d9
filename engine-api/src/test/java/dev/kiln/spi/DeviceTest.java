package dev.kiln.spi;

import org.junit.jupiter.api.Test;

import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A device's properties: known, unknown (the constructor plugins used before they existed), or refused. */
class DeviceTest {

    @Test
    void theThreeArgumentConstructorLeavesMemoryAndComputeUnitsUnknown() {
        Device d = new Device("0", "some accelerator", Device.Kind.ACCELERATOR);
        assertEquals(OptionalLong.empty(), d.globalMemoryBytes());
        assertEquals(OptionalInt.empty(), d.computeUnits());
        assertEquals("some accelerator", d.name());
    }

    @Test
    void knownPropertiesAreKept() {
        Device d = new Device("1", "a GPU", Device.Kind.GPU, 16L << 30, 80);
        assertEquals(OptionalLong.of(16L << 30), d.globalMemoryBytes());
        assertEquals(OptionalInt.of(80), d.computeUnits());
    }

    @Test
    void theHostCpuHasItsThreadsAndMemory() {
        assertEquals(OptionalInt.of(Runtime.getRuntime().availableProcessors()), Device.HOST_CPU.computeUnits());
        // The JDK that runs the build has the jdk.management module; the machine has more than 256 MiB.
        assertTrue(Device.HOST_CPU.globalMemoryBytes().orElse(0) > 256L << 20, Device.HOST_CPU.toString());
    }

    @Test
    void refusesPropertiesThatCannotBe() {
        IllegalArgumentException memory = assertThrows(IllegalArgumentException.class,
                () -> new Device("2", "x", Device.Kind.GPU, 0, 4));
        assertTrue(memory.getMessage().contains("'2'") && memory.getMessage().contains("global memory"),
                memory.getMessage());
        IllegalArgumentException units = assertThrows(IllegalArgumentException.class,
                () -> new Device("3", "x", Device.Kind.GPU, 1L << 30, -1));
        assertTrue(units.getMessage().contains("compute units"), units.getMessage());
        assertThrows(NullPointerException.class,
                () -> new Device("4", "x", Device.Kind.CPU, null, OptionalInt.empty()));
    }
}
