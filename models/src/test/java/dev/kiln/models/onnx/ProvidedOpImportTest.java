package dev.kiln.models.onnx;

import dev.kiln.CompileOptions;
import dev.kiln.CompiledModel;
import dev.kiln.Engine;
import dev.kiln.EngineOptions;
import dev.kiln.KilnException;
import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.OpaqueOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.optimize.Optimizer;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.PlanReport;
import dev.kiln.spi.Backend;
import dev.kiln.spi.KernelRegistry;
import dev.kiln.spi.OpRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.kiln.models.onnx.TestModel.attr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ops Kiln does not have: one an {@link dev.kiln.spi.OpProvider} adds ({@link TestGelu}, a custom
 * domain's GELU) imports, infers its shapes, runs on the reference backend with the provider's
 * kernel and on a backend that claims it, and survives export and re-import; one no provider
 * knows imports as an opaque node when the file declares its output shape, runs where a backend
 * claims it, and fails naming it otherwise.
 */
class ProvidedOpImportTest {
    private static final String GELU = TestGelu.DOMAIN + "." + TestGelu.NAME;
    private static final OpRegistry OPS = new OpRegistry(List.of(new TestGelu()));
    private static final OpRegistry NO_OPS = new OpRegistry(List.of());
    /** An op no provider knows. */
    private static final String TWICE = "com.vendor.Twice";

    @TempDir
    Path dir;

    /** x [N, 3, 4, 4] -> GELU (custom domain) -> Relu -> y; the output's shape is not declared. */
    private Path geluModel(String name, NodeProto gelu) {
        return TestModel.opset(13).input("x", -1, 3, 4, 4)
                .node(gelu)
                .node("Relu", List.of("g"), List.of("y"))
                .output("y")
                .save(dir.resolve(name));
    }

    private static NodeProto gelu(String approximate) {
        return NodeProto.newBuilder().setName("gelu").setOpType(TestGelu.NAME).setDomain(TestGelu.DOMAIN)
                .addInput("x").addOutput("g").addAttribute(attr("approximate", approximate)).build();
    }

    private static float[] input(int count) {
        float[] x = Runs.values(count, 7);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 3; // across GELU's bend
        }
        return x;
    }

    private static void assertGeluRelu(float[] x, float[] y, boolean tanh) {
        for (int i = 0; i < x.length; i++) {
            double expected = Math.max(0, TestGelu.gelu(x[i], tanh));
            assertEquals(expected, y[i], 1e-5 * Math.max(1, Math.abs(expected)), "element " + i);
        }
    }

    @Test
    void aProvidedOpImportsInfersItsShapeAndRunsOnTheReferenceBackend() {
        try (Graph graph = OnnxImporter.load(geluModel("gelu.onnx", gelu("sigmoid")), OPS)) {
            Node node = graph.nodes().getFirst();
            ProvidedOp op = assertInstanceOf(ProvidedOp.class, node.op());
            assertEquals(GELU, op.type());
            assertEquals(OpAttributes.empty().with("approximate", "sigmoid"), op.attributes());
            assertEquals(Shape.of(2, 3, 4, 4), graph.inferShapes(graph.inputShapesForBatch(2)).get("y"));

            float[] x = input(2 * 3 * 4 * 4);
            Runs.Result r = Runs.run(graph, Shape.of(2, 3, 4, 4), x);
            assertEquals(Shape.of(2, 3, 4, 4), r.shape());
            assertGeluRelu(x, r.values(), false);
        }
    }

    @Test
    void theProviderOnTheClassPathIsFoundWithoutBeingNamed() {
        Path file = geluModel("found.onnx", gelu("tanh"));
        try (Graph graph = OnnxImporter.load(file); Graph again = OnnxImporter.load(file)) {
            assertEquals(GELU, graph.nodes().getFirst().op().type());
            // Each load discovers its own provider instance: still the same op.
            assertEquals(graph.nodes().getFirst().op(), again.nodes().getFirst().op());
            assertEquals(graph.nodes().getFirst().op().hashCode(), again.nodes().getFirst().op().hashCode());
        }
    }

    @Test
    void aBackendThatClaimsTheOpRunsItAndTheOptimizerLeavesItAlone() {
        try (Graph graph = OnnxImporter.load(geluModel("claimed.onnx", gelu("tanh")), OPS);
             Engine engine = engineWith(new ClaimingBackend(GELU, x -> TestGelu.gelu(x, true)));
             CompiledModel model = engine.compile(graph, ClaimingBackend.ID)) {
            float[] x = input(3 * 4 * 4);
            float[] y = runFirstOutput(model, Shape.of(1, 3, 4, 4), x);
            assertGeluRelu(x, y, true);
            List<PlanReport.Placement> placements = model.placements();
            assertEquals(ClaimingBackend.ID, placement(placements, "gelu").backend(), placements.toString());
            assertEquals(ReferenceBackend.ID, placement(placements, "relu1").backend(), placements.toString());
            assertEquals(GELU, placement(placements, "gelu").op());
        }
    }

    @Test
    void exportedWithItsDomainAndReimportedAsTheSameOp() throws Exception {
        Path file = dir.resolve("exported.onnx");
        try (Graph graph = OnnxImporter.load(geluModel("source.onnx", gelu("sigmoid")), OPS)) {
            OnnxExporter.write(graph, file);
            var model = OnnxExporter.toModel(graph);
            assertTrue(model.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals(TestGelu.DOMAIN)),
                    model.getOpsetImportList().toString());
            try (Graph again = OnnxImporter.load(file, OPS)) {
                assertEquals(graph.nodes().getFirst().op(), again.nodes().getFirst().op());
                float[] x = input(3 * 4 * 4);
                assertGeluRelu(x, Runs.run(again, Shape.of(1, 3, 4, 4), x).values(), false);
            }
            // Without the provider the file still loads: the exporter declared the op's output shape.
            try (Graph opaque = OnnxImporter.load(file, NO_OPS)) {
                ProvidedOp op = assertInstanceOf(ProvidedOp.class, opaque.nodes().getFirst().op());
                OpaqueOp unknown = assertInstanceOf(OpaqueOp.class, op.provider());
                assertEquals(List.of(Shape.of(-1, 3, 4, 4)), unknown.outputs());
                assertEquals("sigmoid", op.attributes().getString("approximate", null));
            }
        }
    }

    /** x [N, 2, 3] -> com.vendor.Twice -> t -> Relu -> y, with t's shape in value_info when {@code declared}. */
    private Path twiceModel(boolean declared) {
        TestModel m = TestModel.opset(13).input("x", -1, 2, 3)
                .node(NodeProto.newBuilder().setName("twice").setOpType("Twice").setDomain("com.vendor")
                        .addInput("x").addOutput("t").addAttribute(attr("factor", 2L)).build())
                .node("Relu", List.of("t"), List.of("y"))
                .output("y");
        var model = m.build();
        if (declared) {
            model = model.toBuilder().setGraph(model.getGraph().toBuilder().addValueInfo(valueInfo("t", -1, 2, 3)))
                    .build();
        }
        Path file = dir.resolve(declared ? "twice_declared.onnx" : "twice.onnx");
        try {
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static ValueInfoProto valueInfo(String name, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (int d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    @Test
    void anUnknownOpWithADeclaredShapeRunsWhereABackendClaimsIt() {
        try (Graph graph = OnnxImporter.load(twiceModel(true), NO_OPS);
             Engine engine = engineWith(new ClaimingBackend(TWICE, x -> 2 * x));
             CompiledModel model = engine.compile(graph, ClaimingBackend.ID)) {
            assertEquals(TWICE, graph.nodes().getFirst().op().type());
            float[] x = input(4 * 2 * 3);
            float[] y = runFirstOutput(model, Shape.of(4, 2, 3), x);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Math.max(0, 2 * x[i]), y[i], 0f, "element " + i);
            }
        }
    }

    @Test
    void anUnknownOpWritingAGraphOutputTakesItsShapeFromTheOutputsType() {
        Path file = TestModel.opset(13).input("x", -1, 2, 3)
                .node(NodeProto.newBuilder().setName("twice").setOpType("Twice").setDomain("com.vendor")
                        .addInput("x").addOutput("y").build())
                .output("y", DataType.FLOAT, -1, 2, 3)
                .save(dir.resolve("twice_output.onnx"));
        try (Graph graph = OnnxImporter.load(file, NO_OPS)) {
            OpaqueOp op = assertInstanceOf(OpaqueOp.class, ((ProvidedOp) graph.nodes().getFirst().op()).provider());
            assertEquals(List.of(Shape.of(-1, 2, 3)), op.outputs());
            assertEquals(Shape.of(5, 2, 3), graph.inferShapes(graph.inputShapesForBatch(5)).get("y"));
        }
    }

    @Test
    void anUnknownOpNoBackendClaimsFailsAtCompileNamingTheOpAndTheNode() {
        try (Graph graph = OnnxImporter.load(twiceModel(true), NO_OPS);
             Engine engine = engineWith()) {
            KilnException e = assertThrows(KilnException.class, () -> {
                try (CompiledModel model = engine.compile(graph, ReferenceBackend.ID)) {
                    runFirstOutput(model, Shape.of(1, 2, 3), input(6));
                }
            });
            assertTrue(e.getMessage().contains("'twice'") && e.getMessage().contains(TWICE)
                    && e.getMessage().contains("no op provider knows it"), e.getMessage());
        }
    }

    @Test
    void anUnknownOpWithoutADeclaredShapeFailsAtImportSayingItHasNoShapeRule() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.load(twiceModel(false), NO_OPS).close());
        assertTrue(e.getMessage().contains("node 'twice'") && e.getMessage().contains("Twice")
                && e.getMessage().contains("'com.vendor'") && e.getMessage().contains("no shape rule"), e.getMessage());
        assertTrue(e.getMessage().contains("twice.onnx"), "names the file: " + e.getMessage());
    }

    @Test
    void anAttributeOfTheWrongKindIsAnErrorNamingTheNodeAndTheAttribute() {
        NodeProto wrong = gelu("tanh").toBuilder().clearAttribute().addAttribute(attr("approximate", 1L)).build();
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.load(geluModel("wrong.onnx", wrong), OPS).close());
        assertTrue(e.getMessage().contains("node 'gelu'") && e.getMessage().contains(GELU)
                && e.getMessage().contains("attribute 'approximate' is INT (1), read as STRING"), e.getMessage());
    }

    @Test
    void aProvidersOwnCheckOfAnAttributeNamesTheNode() {
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.load(geluModel("bad.onnx", gelu("erf")), OPS).close());
        assertTrue(e.getMessage().contains("node 'gelu'") && e.getMessage().contains("must be tanh or sigmoid"),
                e.getMessage());
    }

    private static Engine engineWith(Backend... extra) {
        List<Backend> backends = new ArrayList<>(List.of(extra));
        backends.add(new ReferenceBackend());
        return Engine.withBackends(backends, KernelRegistry.discover(), EngineOptions.defaults());
    }

    private static float[] runFirstOutput(CompiledModel model, Shape shape, float[] x) {
        try (Tensor in = Tensor.of(shape, x)) {
            Map<String, Tensor> out = model.run(Map.of("x", in));
            try {
                return out.values().iterator().next().toFloatArray();
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    private static PlanReport.Placement placement(List<PlanReport.Placement> placements, String node) {
        PlanReport.Placement p = placements.stream().filter(x -> x.node().equals(node)).findFirst().orElse(null);
        assertNotNull(p, node + " in " + placements);
        return p;
    }

    /**
     * Constant folding would evaluate a node whose inputs are all constants on the reference
     * backend, which cannot run an opaque op; provided ops stay as they are.
     */
    @Test
    void theOptimizerLeavesProvidedAndOpaqueOpsOnConstantsAlone() {
        Path file = TestModel.opset(13).input("x", -1, 2)
                .initializer("w", new int[]{2}, 0.5f, -1.5f)
                .node(NodeProto.newBuilder().setName("twice").setOpType("Twice").setDomain("com.vendor")
                        .addInput("w").addOutput("t").build())
                .node(NodeProto.newBuilder().setName("gelu").setOpType(TestGelu.NAME).setDomain(TestGelu.DOMAIN)
                        .addInput("w").addOutput("g").build())
                .node("Add", List.of("x", "t"), List.of("s"))
                .node("Add", List.of("s", "g"), List.of("y"))
                .output("y")
                .save(dir.resolve("constants.onnx"));
        try {
            var model = ModelProto.parseFrom(Files.readAllBytes(file));
            model = model.toBuilder().setGraph(model.getGraph().toBuilder().addValueInfo(valueInfo("t", 2))).build();
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Graph graph = OnnxImporter.load(file, OPS)) {
            Graph optimized = new Optimizer().optimize(graph).graph();
            try {
                List<String> types = optimized.nodes().stream().map(n -> n.op().type()).toList();
                assertTrue(types.contains(TWICE) && types.contains(GELU), types.toString());
            } finally {
                optimized.close();
            }
        }
    }
}
