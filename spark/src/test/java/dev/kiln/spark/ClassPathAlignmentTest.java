package dev.kiln.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.module.scala.DefaultScalaModule$;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln's dependencies meet Spark's: one Jackson version (Spark's) on the module's class path,
 * and the JVM options file holds every option Spark's own launcher gives a Java 25 JVM.
 * (Protobuf: Spark shades its own, and ShippedOnnxFileTest imports an ONNX file through Kiln's
 * inside a Spark task.)
 */
class ClassPathAlignmentTest {
    @Test
    void jacksonCoreDatabindAndScalaModuleAreOneVersion() {
        String core = com.fasterxml.jackson.core.json.PackageVersion.VERSION.toString();
        String databind = com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION.toString();
        assertEquals(core, databind, "jackson-core and jackson-databind");
        // jackson-module-scala refuses, when registered, a databind of another minor version.
        new ObjectMapper().registerModule(DefaultScalaModule$.MODULE$);
    }

    @Test
    void jvmOptionsFileHasEverythingSparksLauncherSets() throws Exception {
        List<String> ours = Files.readAllLines(Path.of("jvm.options")).stream().map(String::trim)
                .filter(l -> !l.isEmpty()).toList();
        for (String option : JavaModuleOptions.defaultModuleOptionArray()) {
            assertTrue(ours.contains(option), "jvm.options lacks Spark's " + option);
        }
        assertTrue(ours.contains("--add-modules=jdk.incubator.vector"), "the cpu-simd backend's module");
        assertTrue(ours.contains("--enable-native-access=ALL-UNNAMED"), "the onednn backend's downcalls");
    }
}
