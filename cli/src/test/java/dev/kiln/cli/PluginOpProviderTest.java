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
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.OpProvider;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;
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
 * declared shape), runs with it. And an op no provider knows, claimed by a backend of the folder,
 * runs and is verified around: {@code kiln verify} marks it not verifiable.
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

    /** Claims com.vendor.Twice (y = 2x), an op no provider knows; named only by the jar the test writes. */
    public static final class ClaimsTwice implements Backend {
        @Override
        public String id() {
            return "claims-twice";
        }

        @Override
        public Support supports(BoundNode node, CompileContext context) {
            return node.op() instanceof ProvidedOp p && p.type().equals("com.vendor.Twice") ? Support.YES
                    : Support.no("only com.vendor.Twice");
        }

        @Override
        public CompiledPartition compile(Partition partition, CompileContext context) {
            return new CompiledPartition() {
                @Override
                public Workspace newWorkspace() {
                    float[][] values = new float[1][];
                    return new Workspace() {
                        @Override
                        public void upload(int index, Tensor host) {
                            values[0] = host.toFloatArray();
                        }

                        @Override
                        public void execute() {
                            for (int i = 0; i < values[0].length; i++) {
                                values[0][i] *= 2;
                            }
                        }

                        @Override
                        public void download(int index, Tensor host) {
                            host.copyFrom(values[0]);
                        }

                        @Override
                        public void close() {
                        }
                    };
                }

                @Override
                public void close() {
                }
            };
        }
    }

    /** x [N, 2, 3] -> com.example.plugin.Scale(factor 2.5) -> y, whose shape the file does not declare. */
    private Path model() throws IOException {
        return model("Scale", "com.example.plugin", false);
    }

    /**
     * x [N, 2, 3] -> op (factor 2.5) -> t -> Relu -> y; t's shape in value_info when {@code declared}.
     */
    private Path model(String op, String domain, boolean declared) throws IOException {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(2))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3));
        TypeProto.Tensor.Builder floats = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE);
        GraphProto graph = GraphProto.newBuilder().setName("scaled")
                .addInput(ValueInfoProto.newBuilder().setName("x")
                        .setType(TypeProto.newBuilder().setTensorType(floats.clone().setShape(shape))))
                .addNode(NodeProto.newBuilder().setName(op.toLowerCase(java.util.Locale.ROOT)).setOpType(op)
                        .setDomain(domain).addInput("x").addOutput("t").addAttribute(AttributeProto.newBuilder()
                                .setName("factor").setType(AttributeProto.AttributeType.FLOAT).setF(2.5f)))
                .addNode(NodeProto.newBuilder().setName("relu").setOpType("Relu").addInput("t").addOutput("y"))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder().setTensorType(floats)))
                .build();
        if (declared) {
            graph = graph.toBuilder().addValueInfo(ValueInfoProto.newBuilder().setName("t")
                    .setType(TypeProto.newBuilder().setTensorType(floats.clone().setShape(shape)))).build();
        }
        ModelProto model = ModelProto.newBuilder().setIrVersion(OnnxTestFiles.IR_VERSION)
                .setProducerName(OnnxTestFiles.PRODUCER)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OnnxTestFiles.OPSET))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(1))
                .setGraph(graph).build();
        Path file = dir.resolve(op + ".onnx");
        Files.write(file, model.toByteArray());
        return file;
    }

    /** A plugin folder with one jar that registers {@code type}'s {@code implementation} (classes from the class path). */
    private Path pluginFolder(Class<?> type, Class<?> implementation) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("plugins-" + implementation.getSimpleName()));
        try (OutputStream file = Files.newOutputStream(folder.resolve("plugin.jar"));
             JarOutputStream jar = new JarOutputStream(file)) {
            jar.putNextEntry(new JarEntry("META-INF/services/" + type.getName()));
            jar.write((implementation.getName() + "\n").getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        return folder;
    }

    @Test
    void anOpaqueOpClaimedByAPluginBackendRunsAndVerifyMarksItNotVerifiable() throws IOException {
        Path model = model("Twice", "com.vendor", true);
        Path plugins = pluginFolder(Backend.class, ClaimsTwice.class);

        CliRun verify = CliRun.of("--plugins", plugins.toString(), "verify", "--model", model.toString(),
                "--backends", "claims-twice", "--json");
        assertEquals(0, verify.exitCode(), verify.describe());
        var backend = verify.json().get("backends").get(0);
        assertTrue(backend.get("passed").asBoolean(), verify.describe());
        assertEquals("[\"twice\"]", backend.get("not_verifiable").toString(), verify.describe());
        assertEquals("[\"relu\"]", backend.get("fallback_nodes").toString(), verify.describe());

        CliRun text = CliRun.of("--plugins", plugins.toString(), "verify", "--model", model.toString(),
                "--backends", "claims-twice");
        assertTrue(text.out().contains("not verifiable (no reference kernel): twice"), text.describe());

        CliRun unclaimed = CliRun.of("run", "--model", model.toString(), "--backend", "reference");
        assertEquals(1, unclaimed.exitCode(), unclaimed.describe());
        assertTrue(unclaimed.err().contains("node 'twice' (com.vendor.Twice) cannot run on any backend"),
                unclaimed.describe());
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

        Path plugins = pluginFolder(OpProvider.class, Scale.class);
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
                assertEquals(Math.max(0, x[i] * 2.5f), values[i], 0f, "element " + i);
            }
        }
    }
}
