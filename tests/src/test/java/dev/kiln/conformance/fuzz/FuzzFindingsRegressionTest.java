package dev.kiln.conformance.fuzz;

import dev.kiln.Engine;
import dev.kiln.optimize.Optimizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every finding {@code kiln fuzz} made, kept as its shrunk recipe ({@code findings/<name>/recipe.txt}:
 * the target, then recipes one a line; those before the last run first in the same engine, for a
 * finding that needs the state an earlier model left), with {@code about.txt} saying what it found
 * and what fixed it, runs its check again on every build and must pass. A finding left open holds
 * a {@code known-failure.txt} with the reason, and must still fail (so that its fix is noticed),
 * unless the reason starts "Rounding-dependent" (a false failure whose showing depends on the host).
 */
class FuzzFindingsRegressionTest {

    static Stream<Path> findings() throws IOException, URISyntaxException {
        Path root = Path.of(FuzzFindingsRegressionTest.class.getResource("findings").toURI());
        try (Stream<Path> dirs = Files.list(root)) {
            List<Path> all = dirs.filter(Files::isDirectory).sorted().toList();
            assertTrue(!all.isEmpty(), "no findings under " + root);
            return all.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("findings")
    void aFindingStaysFixed(Path dir, @TempDir Path scratch) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("recipe.txt"));
        String target = lines.get(0).trim();
        List<GraphRecipe> recipes = lines.stream().skip(1).filter(l -> !l.isBlank()).map(GraphRecipe::parse).toList();
        assertTrue(Files.isRegularFile(dir.resolve("about.txt")), "a finding says what it found: " + dir);
        Engine engine = Engine.create();
        CaseChecker checker = new CaseChecker(engine, new Optimizer(), scratch);
        for (GraphRecipe before : recipes.subList(0, recipes.size() - 1)) {
            assertEquals(CaseResult.Verdict.PASSED, checker.check(before, target).verdict(), before::toLine);
        }
        CaseResult r = checker.check(recipes.getLast(), target);
        if (Files.exists(dir.resolve("known-failure.txt")) && Files.readString(dir.resolve("known-failure.txt"))
                .startsWith("Rounding-dependent")) {
            // A false failure of the tolerance model: whether it shows depends on the host's
            // summation order (vector width, tiles), so it must run and stay a numeric verdict.
            assertTrue(r.verdict() == CaseResult.Verdict.PASSED || r.verdict() == CaseResult.Verdict.DIVERGED,
                    r::message);
            System.out.println("known false failure " + dir.getFileName() + " on this host: " + r.verdict());
        } else if (Files.exists(dir.resolve("known-failure.txt"))) {
            assertTrue(r.verdict().isFinding(), "a known failure passes now; remove known-failure.txt of " + dir);
            System.out.println("known failure " + dir.getFileName() + ": " + Files.readString(dir.resolve(
                    "known-failure.txt")).trim());
        } else {
            assertEquals(CaseResult.Verdict.PASSED, r.verdict(), r::message);
        }
    }
}
