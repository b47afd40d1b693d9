package dev.kiln;

import dev.kiln.reference.ReferenceBackend;
import dev.kiln.runtime.SelectionKey;
import dev.kiln.selection.HostFingerprint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Kiln's version comes from the stamp the build writes into engine-api, not from a jar
 * manifest: these tests run from the module's classes folder, which has no manifest at all, and
 * the tuning cache's key must still name the version (as the command line's jar, the benchmarks
 * jar and an embedding application all do), or what {@code kiln tune} measured would serve none
 * of the others.
 */
class KilnVersionTest {

    @Test
    void theStampIsTheBuildsVersion() {
        String built = System.getProperty("kiln.tests.projectVersion");
        assertNotNull(built, "run through Maven, which passes the project's version");
        assertEquals(built, KilnVersion.current());
    }

    @Test
    void theTuningKeyAndKilnsOwnBackendsNameIt() {
        assertEquals(KilnVersion.current(), HostFingerprint.current().kiln());
        assertEquals(KilnVersion.current(), new ReferenceBackend().version());
        try (var graph = new dev.kiln.graph.GraphBuilder("relu").input("x", Shape.of(1, 3)).output("x").build()) {
            var key = SelectionKey.of(graph, graph.inputShapesForBatch(1), List.of(new ReferenceBackend()), 1,
                    HostFingerprint.current());
            assertEquals(KilnVersion.current(), key.fields().get("kiln"));
            assertEquals(ReferenceBackend.ID + "@" + KilnVersion.current(), key.fields().get("backends"));
        }
    }
}
