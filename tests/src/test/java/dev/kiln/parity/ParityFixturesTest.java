package dev.kiln.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the parity tests look for their fixtures, and how they fail when there are none. */
class ParityFixturesTest {
    /** SHA-256("abc"), the FIPS 180-2 test vector, starts with these 16 hex digits. */
    private static final String ABC_HASH = "ba7816bf8f01cfea";

    @TempDir
    Path temp;

    private Path repositoryWithScript() throws IOException {
        Path repo = temp.resolve("repo");
        Files.createDirectories(repo.resolve("parity"));
        Files.writeString(repo.resolve(ParityFixtures.SCRIPT), "abc");
        return repo;
    }

    @Test
    void folderIsKeyedByTheScriptsHashAsSha256sumPrintsIt() throws IOException {
        assertEquals(ABC_HASH, ParityFixtures.scriptHash(repositoryWithScript().resolve(ParityFixtures.SCRIPT)));
    }

    @Test
    void repositoryRootIsFoundFromAModuleFolder() throws IOException {
        Path repo = repositoryWithScript();
        Path module = Files.createDirectories(repo.resolve("tests"));
        assertEquals(repo, ParityFixtures.repositoryRoot(module));
    }

    @Test
    void missingFixturesFailWithTheCommandThatMakesThem() throws IOException {
        Path repo = repositoryWithScript();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains(ParityFixtures.PREPARE) && e.getMessage().contains("parity-" + ABC_HASH),
                e.getMessage());
    }

    @Test
    void aFolderWithoutItsCompleteMarkerDoesNotCount() throws IOException {
        Path repo = repositoryWithScript();
        Path fixtures = temp.resolve("fixtures");
        Files.createDirectories(fixtures.resolve("parity-" + ABC_HASH));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, fixtures));
        assertTrue(e.getMessage().contains(ParityFixtures.COMPLETE_MARKER), e.getMessage());
    }

    @Test
    void aCompleteFolderIsUsed() throws IOException {
        Path repo = repositoryWithScript();
        Path folder = Files.createDirectories(temp.resolve("fixtures").resolve("parity-" + ABC_HASH));
        Files.createFile(folder.resolve(ParityFixtures.COMPLETE_MARKER));
        assertEquals(folder, ParityFixtures.locate(repo, temp.resolve("fixtures")).folder());
    }

    private ParityFixtures completeFolder() throws IOException {
        Path repo = repositoryWithScript();
        Path folder = Files.createDirectories(temp.resolve("fixtures").resolve("parity-" + ABC_HASH));
        Files.createFile(folder.resolve(ParityFixtures.COMPLETE_MARKER));
        return ParityFixtures.locate(repo, temp.resolve("fixtures"));
    }

    @Test
    void theExportScriptsOwnBatchesNeedNoMarker() throws IOException {
        ParityFixtures fixtures = completeFolder();
        assertEquals(fixtures, fixtures.requireBatches(ParityFixtures.EXPORTED_BATCHES));
    }

    @Test
    void anAddedBatchCountsOnlyOnceMarkedComplete() throws IOException {
        ParityFixtures fixtures = completeFolder();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> fixtures.requireBatches(List.of(1, 4)));
        assertTrue(e.getMessage().contains("batch 4") && e.getMessage().contains(".complete-b4")
                && e.getMessage().contains(ParityFixtures.PREPARE), e.getMessage());

        Files.createFile(fixtures.folder().resolve(".complete-b4"));
        assertEquals(fixtures, fixtures.requireBatches(List.of(1, 4)));
        assertThrows(IllegalStateException.class, () -> fixtures.requireBatches(List.of(5)));
    }
}
