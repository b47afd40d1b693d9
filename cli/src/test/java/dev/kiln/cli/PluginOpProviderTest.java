package dev.kiln.cli;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.models.io.Npy;
import dev.kiln.models.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.reference.ReferenceKernel;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.OpProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@link OpProvider} in a jar of the {@code --plugins} folder is seen by {@code kiln} as a
 * backend there is: a model using its op, which does not load without it (its output has no
 * declared shape), runs with it.
 */
class PluginOpProviderTest {
    @TempDir
    Path dir;

    /** y = x * factor; named only by the services file of the jar the test writes, not by the class path's. */
    public static final class Scale implements OpProvider {
        @Override
        public String domain() {
            return "com.example.plugin";
        }

        @Override
        public String name() {
            return "Scale";
        }

        @Override
        public OpAttributes importAttributes(OpAttributes declared) {
            return OpAttributes.empty().with("factor", declared.getFloat("factor", 1f));
        }

        @Override
        public List<Shape> inferShapes(List<Shape> inputs, OpAttributes attributes) {
            return List.of(inputs.getFirst());
        }

        @Override
        public ReferenceKernel referenceKernel(BoundNode node) {
            float factor = ((ProvidedOp) node.op()).attributes().getFloat("factor", 1f);
            int count = node.outputShape().elementCountInt();
            return (in, out) -> {
                for (int i = 0; i < count; i++) {
                    out[0][i] = in[0][i] * factor;
                }
            };
        }
    }

    /** x [N, 2, 3] -> com.example.plugin.Scale(factor 2.5) -> y, whose shape the file does not declare. */
    private Path model() throws IOException {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(2))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3));
        TypeProto.Tensor.Builder floats = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE);
        GraphProto graph = GraphProto.newBuilder().setName("scaled")
                .addInput(ValueInfoProto.newBuilder().setName("x")
                        .setType(TypeProto.newBuilder().setTensorType(floats.clone().setShape(shape))))
                .addNode(NodeProto.newBuilder().setName("scale").setOpType("Scale").setDomain("com.example.plugin")
                        .addInput("x").addOutput("y").addAttribute(AttributeProto.newBuilder().setName("factor")
                                .setType(AttributeProto.AttributeType.FLOAT).setF(2.5f)))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder().setTensorType(floats)))
                .build();
        ModelProto model = ModelProto.newBuilder().setIrVersion(OnnxTestFiles.IR_VERSION)
                .setProducerName(OnnxTestFiles.PRODUCER)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxTestFiles.OPSET))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("com.example.plugin").setVersion(1))
                .setGraph(graph).build();
        Path file = dir.resolve("scaled.onnx");
        Files.write(file, model.toByteArray());
        return file;
    }

    private Path pluginFolder() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("plugins"));
        try (OutputStream file = Files.newOutputStream(folder.resolve("scale-op.jar"));
             JarOutputStream jar = new JarOutputStream(file)) {
            jar.putNextEntry(new JarEntry("META-INF/services/dev.kiln.spi.OpProvider"));
            jar.write((Scale.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        return folder;
    }

    @Test
    void anOpProviderFromThePluginFolderLetsItsModelRun() throws IOException {
        Path model = model();
        Shape shape = Shape.of(2, 2, 3);
        float[] x = new float[12];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.75f - 4;
        }
        try (Tensor t = Tensor.of(shape, x)) {
            Npy.write(dir.resolve("x.npy"), t);
        }
        Path y = dir.resolve("y.npy");

        CliRun without = CliRun.of("run", "--model", model.toString(), "--backend", "reference",
                "--input", dir.resolve("x.npy").toString(), "--output", y.toString());
        assertEquals(1, without.exitCode(), without.describe());
        assertTrue(without.err().contains("com.example.plugin") && without.err().contains("Scale")
                && without.err().contains("no shape rule"), without.describe());

        Path plugins = pluginFolder();
        CliRun listed = CliRun.of("--plugins", plugins.toString(), "backends");
        assertEquals(0, listed.exitCode(), listed.describe());
        assertTrue(listed.out().contains("op com.example.plugin.Scale: from " + Scale.class.getName()),
                listed.describe());
        assertTrue(!CliRun.of("backends").out().contains("com.example.plugin.Scale"), "only from the folder");

        CliRun with = CliRun.of("--plugins", plugins.toString(), "run", "--model", model.toString(),
                "--backend", "reference", "--input", dir.resolve("x.npy").toString(), "--output", y.toString());
        assertEquals(0, with.exitCode(), with.describe());
        try (Tensor out = Npy.read(y)) {
            assertEquals(shape, out.shape());
            float[] values = out.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i] * 2.5f, values[i], 0f, "element " + i);
            }
        }
    }
}
