package dev.kiln.cpusimd;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.OptionalInt;

import com.sun.management.HotSpotDiagnosticMXBean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RegisterTilesTest {
    @Test
    void registersFollowTheJvmsAvxLevelOnX86AndTheArchitectureElsewhere() {
        assertEquals(32, RegisterTiles.vectorRegisters("amd64", OptionalInt.of(3)));
        assertEquals(16, RegisterTiles.vectorRegisters("amd64", OptionalInt.of(2)));
        assertEquals(16, RegisterTiles.vectorRegisters("x86_64", OptionalInt.of(1)));
        assertEquals(16, RegisterTiles.vectorRegisters("amd64", OptionalInt.empty()));
        assertEquals(32, RegisterTiles.vectorRegisters("aarch64", OptionalInt.empty()));
        assertEquals(16, RegisterTiles.vectorRegisters("ppc64le", OptionalInt.empty()));
    }

    @Test
    void theTileFitsTheRegisterFile() {
        assertEquals(12, new RegisterTiles(512, 32).pairRows());
        assertEquals(4, new RegisterTiles(256, 16).pairRows());
        assertEquals(4, new RegisterTiles(128, 16).pairRows());
        assertEquals(12, new RegisterTiles(128, 32).pairRows());
        assertEquals(12, new RegisterTiles(512, 32).singleRows());
        assertEquals(6, new RegisterTiles(256, 16).singleRows());
        assertEquals("4x2/6x1 tiles for 16 x 256-bit registers", new RegisterTiles(256, 16).describe());
        assertThrows(IllegalArgumentException.class, () -> new RegisterTiles(256, 8));
    }

    /** Each of the module's test runs (native, -XX:UseAVX=2, 128-bit) gets the tile of its own flags. */
    @Test
    void theMachinesTileIsWhatThisJvmUses() {
        String arch = System.getProperty("os.arch");
        assertEquals(BlockedLayout.SPECIES.vectorBitSize(), RegisterTiles.MACHINE.vectorBits());
        if (arch.equals("amd64")) {
            int useAvx = Integer.parseInt(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("UseAVX").getValue());
            assertEquals(useAvx >= 3 ? 32 : 16, RegisterTiles.MACHINE.vectorRegisters());
        }
    }
}
