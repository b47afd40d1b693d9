package dev.kiln.onednn;

import dev.kiln.Engine;
import dev.kiln.nativelib.NativeEnvironment;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The OpenMP spin cap, seen from fresh JVMs whose environments differ: the setting is read once per process. */
class OpenMpSpinningTest {

    /** Prints whether onednn loaded, GOMP_SPINCOUNT as the C library sees it afterwards, and onednn's reason. */
    public static final class Probe {
        public static void main(String[] args) {
            Engine.BackendInfo info = Engine.create().backends().stream()
                    .filter(b -> b.id().equals(OneDnnBackend.ID)).findFirst().orElseThrow();
            System.out.println(info.available() + "|" + NativeEnvironment.get(OpenMpSpinning.VARIABLE).orElse("unset")
                    + "|" + info.reason());
        }
    }

    private static String probe(Map<String, String> environment, String... jvmOptions)
            throws IOException, InterruptedException {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        options.addAll(List.of(jvmOptions));
        return ChildJvm.lastLine(Probe.class, env -> {
            env.remove(OpenMpSpinning.VARIABLE);
            env.remove("OMP_WAIT_POLICY");
            env.putAll(environment);
        }, options.toArray(String[]::new));
    }

    @Test
    void withoutAUsersChoiceTheHelpersSpinAtMostTheCap() throws Exception {
        assertTrue(probe(Map.of()).startsWith("true|" + OpenMpSpinning.DEFAULT_ROUNDS + "|"));
        assertTrue(probe(Map.of(), "-D" + OpenMpSpinning.PROPERTY + "=2500").startsWith("true|2500|"));
    }

    @Test
    void aUsersOpenMpSettingIsLeftAlone() throws Exception {
        assertTrue(probe(Map.of(OpenMpSpinning.VARIABLE, "777")).startsWith("true|777|"));
        assertTrue(probe(Map.of("OMP_WAIT_POLICY", "passive")).startsWith("true|unset|"));
    }

    @Test
    void aMalformedCapLeavesOnednnUnavailableNamingTheProperty() throws Exception {
        String last = probe(Map.of(), "-D" + OpenMpSpinning.PROPERTY + "=lots");
        assertTrue(last.startsWith("false|unset|"), last);
        assertTrue(last.contains(OpenMpSpinning.PROPERTY + " must be a whole number"), last);
    }
}
