package dev.kiln.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the parity tests look for their fixtures, and how they fail when there are none. */
class ParityFixturesTest {
    /** SHA-256("abc"), the FIPS 180-2 test vector. */
    private static final String ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    /** SHA-256 of nothing. */
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String VERSIONS = "torch 1.13.0\ntorchvision 0.14.1\nonnx 1.12.0\nnumpy 1.24.2\n";

    @TempDir
    Path temp;

    private Path repositoryWithScripts() throws IOException {
        Path repo = temp.resolve("repo");
        Files.createDirectories(repo.resolve("parity"));
        Files.writeString(repo.resolve(ParityFixtures.SCRIPT), "abc");
        Files.writeString(repo.resolve("parity/zz_helper.py"), "");
        Files.writeString(repo.resolve("parity/README.md"), "not a script");
        return repo;
    }

    /** A fixtures folder as the script makes it: named by its key text's hash, the text inside. */
    private Path folderFor(String keyText, boolean complete) throws IOException {
        Path folder = Files.createDirectories(temp.resolve("fixtures").resolve(ParityFixtures.folderName(keyText)));
        Files.writeString(folder.resolve(ParityFixtures.KEY_FILE), keyText);
        if (complete) {
            Files.createFile(folder.resolve(ParityFixtures.COMPLETE_MARKER));
        }
        return folder;
    }

    @Test
    void scriptLinesAreEveryPythonFileOfParityWithItsSha256AsSha256sumPrintsThem() throws IOException {
        assertEquals(ABC_SHA256 + "  parity/export_models.py\n" + EMPTY_SHA256 + "  parity/zz_helper.py\n",
                ParityFixtures.scriptLines(repositoryWithScripts()));
    }

    @Test
    void folderIsNamedByTheFirst16HexDigitsOfTheKeyTextsSha256() {
        assertEquals("parity-" + ABC_SHA256.substring(0, 16), ParityFixtures.folderName("abc"));
    }

    @Test
    void aCompleteFolderWithThisCheckoutsScriptsIsUsedWithItsVersions() throws IOException {
        Path repo = repositoryWithScripts();
        Path folder = folderFor(ParityFixtures.scriptLines(repo) + VERSIONS, true);
        ParityFixtures fixtures = ParityFixtures.locate(repo, temp.resolve("fixtures"));
        assertEquals(folder, fixtures.folder());
        assertEquals(List.of("torch 1.13.0", "torchvision 0.14.1", "onnx 1.12.0", "numpy 1.24.2"), fixtures.versions());
        assertEquals(folder.resolve(ParityFixtures.REDUCED_FOLDER), fixtures.reduced().folder());
    }

    @Test
    void missingFixturesFailWithTheCommandThatMakesThem() throws IOException {
        Path repo = repositoryWithScripts();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains(ParityFixtures.PREPARE), e.getMessage());
    }

    @Test
    void aFolderWithoutItsCompleteMarkerDoesNotCount() throws IOException {
        Path repo = repositoryWithScripts();
        folderFor(ParityFixtures.scriptLines(repo) + VERSIONS, false);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains(ParityFixtures.COMPLETE_MARKER), e.getMessage());
    }

    @Test
    void aFolderMadeByOtherScriptsDoesNotCount() throws IOException {
        Path repo = repositoryWithScripts();
        folderFor(ParityFixtures.scriptLines(repo) + VERSIONS, true);
        Files.writeString(repo.resolve("parity/zz_helper.py"), "changed");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains("other versions of parity/*.py"), e.getMessage());

        Files.writeString(repo.resolve("parity/zz_helper.py"), ""); // as the folder was made
        Files.writeString(repo.resolve("parity/new_helper.py"), "");
        assertThrows(IllegalStateException.class, () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
    }

    @Test
    void aFolderWhoseKeyFileIsNotItsNameDoesNotCount() throws IOException {
        Path repo = repositoryWithScripts();
        Path folder = folderFor(ParityFixtures.scriptLines(repo) + VERSIONS, true);
        Files.writeString(folder.resolve(ParityFixtures.KEY_FILE), ParityFixtures.scriptLines(repo) + "torch 2.0\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains("hashes to"), e.getMessage());
    }

    @Test
    void aFolderOfTheEarlierSchemeWithoutKeyFileDoesNotCount() throws IOException {
        Path repo = repositoryWithScripts();
        Path folder = Files.createDirectories(temp.resolve("fixtures").resolve(ParityFixtures.folderName("abc")));
        Files.createFile(folder.resolve(ParityFixtures.COMPLETE_MARKER));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ParityFixtures.locate(repo, temp.resolve("fixtures")));
        assertTrue(e.getMessage().contains("no " + ParityFixtures.KEY_FILE), e.getMessage());
    }

    /**
     * The script and this class compute the same key: the script's {@code --print-key} prints the
     * folder's name and the key text (its versions from the Python it uses), and this class gives
     * the same script lines for this checkout and the same name for that text.
     */
    @Test
    void theScriptAndThisClassAgreeOnTheKey() throws IOException, InterruptedException {
        Path repo = ParityFixtures.repositoryRoot(Path.of("").toAbsolutePath());
        Process process = new ProcessBuilder("bash", ParityFixtures.PREPARE, "--print-key")
                .directory(repo.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), ParityFixtures.PREPARE + " --print-key did not finish");
        assertEquals(0, process.exitValue(), ParityFixtures.PREPARE + " --print-key failed: " + printed);
        String name = printed.substring(0, printed.indexOf('\n'));
        String keyText = printed.substring(printed.indexOf('\n') + 1);
        assertEquals(ParityFixtures.scriptLines(repo), ParityFixtures.scriptLinesOf(keyText), printed);
        assertEquals(name, ParityFixtures.folderName(keyText), printed);
        assertTrue(keyText.lines().anyMatch(line -> line.startsWith("torch ")), printed);
    }

    private ParityFixtures completeFolder() throws IOException {
        Path repo = repositoryWithScripts();
        folderFor(ParityFixtures.scriptLines(repo) + VERSIONS, true);
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
