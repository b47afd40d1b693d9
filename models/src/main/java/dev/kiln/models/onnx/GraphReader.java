package dev.kiln.models.onnx;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphValidationException;
import dev.kiln.graph.Node;
import dev.kiln.graph.ValueInfo;
import dev.kiln.graph.ops.OpAttributes;
import dev.kiln.graph.ops.OpaqueOp;
import dev.kiln.graph.ops.ProvidedOp;
import dev.kiln.models.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.models.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.models.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.models.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.models.onnx.proto.OnnxProto.TensorProto.DataType;
import dev.kiln.models.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.models.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.models.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.spi.OpProvider;
import dev.kiln.spi.OpRegistry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;

/**
 * Walks an ONNX graph once, converting each node with {@link OnnxOps}: for {@link #load} into a
 * validated Kiln graph that owns its weights, for {@link #inspect} into a summary that lists
 * whatever could not be converted instead of failing on it.
 */
final class GraphReader {
    /** The newest ai.onnx opset whose operator definitions this importer follows. */
    static final long NEWEST_OPSET = 18;

    /** Thrown while inspecting a node that reads the output of a node already reported unsupported. */
    static final class DependsOnUnavailable extends RuntimeException {
        DependsOnUnavailable() {
            super(null, null, false, false);
        }
    }

    private final ModelFile file;
    private final boolean inspecting;
    private final OpRegistry ops;
    /** The types the file declares for values (value_info, graph outputs), for ops Kiln has no shape rule for. */
    private final Map<String, TypeProto> declaredTypes = new HashMap<>();
    private final Map<String, Long> opsets = new LinkedHashMap<>();
    private final Map<String, ImportedValue> values = new HashMap<>();
    private final Set<String> graphInputs = new HashSet<>();
    private final Set<String> names = new HashSet<>();
    private final Set<String> read = new HashSet<>();
    private final ShapeTracker shapes = new ShapeTracker();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, TensorData> initializers = new LinkedHashMap<>();
    private final Set<String> statistics = new HashSet<>();
    private final Set<String> unsupported = new TreeSet<>();
    private final Map<String, Integer> opCounts = new LinkedHashMap<>();

    private GraphReader(ModelFile file, boolean inspecting, OpRegistry ops) {
        this.file = file;
        this.inspecting = inspecting;
        this.ops = ops;
    }

    static Graph load(ModelFile file, OpRegistry ops) {
        GraphReader reader = new GraphReader(file, false, ops);
        reader.convert();
        return reader.build();
    }

    /**
     * Converts without stopping at what Kiln cannot run; when nothing was found, builds the graph
     * as {@link #load} does, so that inspect validates exactly what loading validates (cycles,
     * undefined values, shapes that do not fit their nodes).
     */
    static OnnxSummary inspect(ModelFile file, OpRegistry ops) {
        GraphReader reader = new GraphReader(file, true, ops);
        reader.convert();
        if (reader.unsupported.isEmpty()) {
            try (Graph validated = reader.build()) {
                validated.nodes(); // built and validated; its weights are freed at once
            } catch (OnnxFormatException e) {
                reader.unsupported.add("invalid model (" + e.getMessage() + ")");
            }
        }
        return reader.summary();
    }

    /** The model as a whole breaks a rule of ONNX: loading stops, inspecting lists it. */
    private void invalidModel(String detail) {
        if (!inspecting) {
            throw new OnnxFormatException(label() + ": " + detail);
        }
        unsupported.add("invalid model (" + detail + ")");
    }

    private String label() {
        return file.label();
    }

    private void convert() {
        ModelProto model = file.model();
        GraphProto graph = model.getGraph();
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            String domain = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            String shown = domain.isEmpty() ? "ai.onnx" : domain;
            if (o.getVersion() < 1) {
                invalidModel("the model imports opset " + o.getVersion() + " of domain '" + shown
                        + "'; opset versions start at 1");
            }
            Long previous = opsets.put(domain, o.getVersion());
            if (previous != null && previous != o.getVersion()) {
                invalidModel("the model imports domain '" + shown + "' twice, at opsets " + previous + " and "
                        + o.getVersion());
            }
        }
        if (graph.getOutputCount() == 0) {
            invalidModel("the graph has no outputs");
        }
        for (NodeProto n : graph.getNodeList()) {
            names.addAll(n.getOutputList());
            read.addAll(n.getInputList());
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            read.add(v.getName());
        }
        for (ValueInfoProto v : graph.getValueInfoList()) {
            declaredTypes.put(v.getName(), v.getType());
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            declaredTypes.put(v.getName(), v.getType());
        }
        readInitializers(graph);
        readInputs(graph);
        for (int index : topologicalOrder(graph.getNodeList())) {
            convertNode(graph.getNode(index), index);
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            checkOutput(v);
        }
    }

    private void readInitializers(GraphProto graph) {
        for (TensorProto t : graph.getInitializerList()) {
            String what = label() + ": initializer '" + t.getName() + "'";
            if (t.getName().isEmpty()) {
                throw new OnnxFormatException(label() + ": an initializer has no name");
            }
            if (values.containsKey(t.getName())) {
                throw new OnnxFormatException(what + " is defined twice");
            }
            TensorData data = TensorData.of(t, what, file.folder());
            values.put(t.getName(), new ImportedValue.Constant(data));
            names.add(t.getName());
            shapes.constant(t.getName(), data.shape());
        }
        if (graph.getSparseInitializerCount() > 0) {
            problem(new UnsupportedNodeException("sparse initializers", "the graph has "
                    + graph.getSparseInitializerCount() + " sparse initializers, which Kiln does not read"));
        }
    }

    private void readInputs(GraphProto graph) {
        Set<String> declared = new HashSet<>();
        for (ValueInfoProto v : graph.getInputList()) {
            if (!declared.add(v.getName())) {
                invalidModel("graph input '" + v.getName() + "' is declared twice");
                continue;
            }
            if (v.getName().isEmpty()) {
                invalidModel("a graph input has no name");
                continue;
            }
            if (values.containsKey(v.getName())) {
                continue; // an initializer: a constant with a default, not an input the caller feeds
            }
            names.add(v.getName());
            graphInputs.add(v.getName());
            TypeProto type = v.getType();
            if (!type.hasTensorType()) {
                values.put(v.getName(), new ImportedValue.Unavailable(v.getName()));
                problem(new UnsupportedNodeException("non-tensor graph input", "graph input '"
                        + v.getName() + "' is not a tensor (" + type.getValueCase() + ")"));
                continue;
            }
            DataType elem = DataType.forNumber(type.getTensorType().getElemType());
            Shape shape = declaredShape(type, "graph input '" + v.getName() + "'");
            if (shape != null) {
                inputs.add(new ValueInfo(v.getName(), shape));
            }
            if (elem != DataType.FLOAT) {
                values.put(v.getName(), new ImportedValue.TypedInput(elem == null ? DataType.UNDEFINED : elem));
                problem(new UnsupportedNodeException(elem + " graph input", "graph input '"
                        + v.getName() + "' has type " + elem + "; Kiln computes in float32 only"));
                continue;
            }
            values.put(v.getName(), new ImportedValue.Data(v.getName()));
            if (shape == null) {
                problem(new UnsupportedNodeException("graph input without a shape", "graph input '"
                        + v.getName() + "' declares no shape; Kiln needs at least its rank"));
                continue;
            }
            shapes.input(v.getName(), shape);
        }
    }

    /**
     * The declared shape with symbolic or missing dims as -1, or null when not even the rank is
     * given. A literal dimension must be a size: ONNX has no negative one, and one past 2^31 - 1
     * would not fit any tensor Kiln makes; either is a format error rather than a symbolic
     * dimension, which would let the model load and claim it runs.
     *
     * @throws OnnxFormatException naming the value, the axis and the dimension
     */
    private static Shape declaredShape(TypeProto type, String what) {
        if (!type.hasTensorType() || !type.getTensorType().hasShape()) {
            return null;
        }
        TensorShapeProto shape = type.getTensorType().getShape();
        int[] dims = new int[shape.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension d = shape.getDim(i);
            if (d.hasDimValue() && (d.getDimValue() < 0 || d.getDimValue() > Integer.MAX_VALUE)) {
                throw new OnnxFormatException(what + " declares dimension " + d.getDimValue() + " on axis " + i
                        + (d.getDimValue() < 0 ? "; ONNX dimensions are sizes, 0 or more (a symbolic one has a name"
                        + " instead)" : "; Kiln supports dimensions up to " + Integer.MAX_VALUE));
            }
            dims[i] = d.hasDimValue() ? (int) d.getDimValue() : Shape.DYNAMIC;
        }
        return Shape.of(dims);
    }

    /**
     * ONNX requires nodes in topological order, but not every writer obeys; converting in that
     * order lets each node see what its inputs are. Returns node indices; nodes on a cycle come
     * last in file order, and the graph builder then reports the cycle.
     */
    private static List<Integer> topologicalOrder(List<NodeProto> nodes) {
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String out : nodes.get(i).getOutputList()) {
                if (!out.isEmpty()) {
                    producer.putIfAbsent(out, i);
                }
            }
        }
        int[] pending = new int[nodes.size()];
        List<List<Integer>> dependents = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            dependents.add(new ArrayList<>());
        }
        for (int i = 0; i < nodes.size(); i++) {
            Set<Integer> deps = new HashSet<>();
            for (String in : nodes.get(i).getInputList()) {
                Integer p = producer.get(in);
                if (p != null && p != i) {
                    deps.add(p);
                }
            }
            pending[i] = deps.size();
            for (int d : deps) {
                dependents.get(d).add(i);
            }
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        List<Integer> order = new ArrayList<>(nodes.size());
        boolean[] placed = new boolean[nodes.size()];
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order.add(i);
            placed[i] = true;
            for (int d : dependents.get(i)) {
                if (--pending[d] == 0) {
                    ready.add(d);
                }
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (!placed[i]) {
                order.add(i);
            }
        }
        return order;
    }

    private void convertNode(NodeProto proto, int index) {
        String opType = proto.getOpType();
        opCounts.merge(opType, 1, Integer::sum);
        String name = proto.getName().isEmpty() ? opType + "_" + index : proto.getName();
        String domain = proto.getDomain().equals("ai.onnx") ? "" : proto.getDomain();
        try {
            OpConverter kilns = domain.isEmpty() ? OnnxOps.converter(opType) : null;
            OpProvider provider = kilns == null ? ops.find(domain, opType) : null;
            if (provider != null) {
                convertProvided(proto, name, provider);
                return;
            }
            if (!domain.isEmpty()) {
                convertOpaque(proto, name, domain, "node '" + name + "': op " + opType + " of domain '" + domain
                        + "' is not supported by Kiln");
                return;
            }
            Long opset = opsets.get("");
            if (opset == null) {
                throw new OnnxFormatException("node '" + name + "' (" + opType
                        + "): the model imports no opset for the ai.onnx domain");
            }
            OpConverter converter = kilns;
            if (converter == null) {
                convertOpaque(proto, name, domain, "node '" + name + "': op " + opType + " (opset " + opset
                        + ") is not supported by Kiln");
                return;
            }
            if (opset > NEWEST_OPSET) {
                throw new UnsupportedNodeException(opType + " (opset " + opset + ")", "node '" + name + "': op "
                        + opType + " at opset " + opset + " is newer than the opsets this importer follows (up to "
                        + NEWEST_OPSET + ")");
            }
            NodeContext context = new NodeContext(this, proto, name, opset);
            OnnxArity.check(context);
            try {
                converter.convert(context);
            } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
                // Kiln's op records check their attributes (a kernel of size 0, negative pads), and
                // values out of any sensible range overflow; either way the node is at fault.
                throw context.invalid(String.valueOf(e.getMessage()));
            }
        } catch (UnsupportedNodeException e) {
            problem(e);
            markUnavailable(proto);
        } catch (DependsOnUnavailable e) {
            markUnavailable(proto);
        } catch (OnnxFormatException e) {
            if (!inspecting) {
                throw new OnnxFormatException(label() + ": " + e.getMessage(), e);
            }
            unsupported.add(opType + " (invalid: " + e.getMessage() + ")");
            markUnavailable(proto);
        }
    }

    /** A node of an op a plugin's {@link OpProvider} adds: its attributes through the provider, its inputs as data. */
    private void convertProvided(NodeProto proto, String name, OpProvider provider) {
        String where = "node '" + name + "' (" + ProvidedOp.qualifiedName(provider.domain(), provider.name())
                + ", from op provider " + provider.getClass().getName() + ")";
        OpAttributes attributes;
        try {
            attributes = provider.importAttributes(OnnxAttributeView.read(proto, where, file.folder()));
        } catch (IllegalArgumentException e) {
            throw new OnnxFormatException(where + ": " + e.getMessage(), e);
        }
        addOpaqueOrProvided(proto, name, new ProvidedOp(provider, attributes), where);
    }

    /**
     * A node of an op neither Kiln nor any provider knows: kept as an {@link OpaqueOp} when the file
     * declares the shape of each output it writes, which a backend may claim; otherwise unsupported,
     * saying why ({@code refusal} begins the message).
     */
    private void convertOpaque(NodeProto proto, String name, String domain, String refusal) {
        String op = ProvidedOp.qualifiedName(domain, proto.getOpType());
        List<Shape> declared = new ArrayList<>();
        for (String out : proto.getOutputList()) {
            TypeProto type = declaredTypes.get(out);
            Shape shape = out.isEmpty() || type == null ? null
                    : declaredShape(type, "value '" + out + "' of node '" + name + "'");
            if (shape == null) {
                throw new UnsupportedNodeException(op, refusal + ": no op provider knows it, and the file"
                        + " declares no shape for its output '" + out + "' (in value_info or the graph's outputs),"
                        + " so it has no shape rule");
            }
            declared.add(shape);
        }
        if (declared.isEmpty()) {
            throw new UnsupportedNodeException(op, refusal + ": no op provider knows it, and it has no outputs");
        }
        String where = "node '" + name + "' (" + op + ", opaque)";
        if (inspecting) {
            // It loads, but only a backend that claims it can run it: inspect says so.
            unsupported.add(op + " (no op provider; opaque, runs only on a backend that claims it)");
        }
        OpAttributes attributes = OnnxAttributeView.read(proto, where, file.folder());
        addOpaqueOrProvided(proto, name, new ProvidedOp(new OpaqueOp(domain, proto.getOpType(),
                proto.getInputCount(), declared), attributes), where);
    }

    /** Adds the node with every present input read as float data. */
    private void addOpaqueOrProvided(NodeProto proto, String name, ProvidedOp op, String where) {
        int given = proto.getInputCount();
        if (given < op.minInputs() || given > op.maxInputs()) {
            throw new OnnxFormatException(where + " has " + given + " inputs; the op takes " + op.minInputs()
                    + (op.maxInputs() == op.minInputs() ? "" : " to " + op.maxInputs()));
        }
        if (proto.getOutputCount() > op.outputCount()) {
            throw new OnnxFormatException(where + " has " + proto.getOutputCount() + " outputs; the op computes "
                    + op.outputCount());
        }
        long opset = opsets.getOrDefault(op.domain(), 1L);
        NodeContext context = new NodeContext(this, proto, name, opset);
        List<String> inputs = new ArrayList<>();
        for (int i = 0; i < given; i++) {
            inputs.add(context.optionalData(i));
        }
        addNode(new Node(name, op, inputs, proto.getOutputList()));
    }

    private void markUnavailable(NodeProto proto) {
        for (String out : proto.getOutputList()) {
            if (!out.isEmpty()) {
                values.put(out, new ImportedValue.Unavailable(proto.getName()));
            }
        }
    }

    /** Records what keeps the model from loading; loading stops at the first. */
    private void problem(UnsupportedNodeException e) {
        if (!inspecting) {
            throw new OnnxFormatException(label() + ": " + e.getMessage(), e);
        }
        unsupported.add(e.entry());
    }

    private void checkOutput(ValueInfoProto v) {
        String name = v.getName();
        TypeProto type = v.getType();
        if (type.hasTensorType()) {
            DataType elem = DataType.forNumber(type.getTensorType().getElemType());
            if (elem != DataType.FLOAT && elem != DataType.UNDEFINED) {
                problem(new UnsupportedNodeException(elem + " graph output", "graph output '" + name
                        + "' has type " + elem + "; Kiln computes in float32 only"));
                return;
            }
        } else if (type.getValueCase() != TypeProto.ValueCase.VALUE_NOT_SET) {
            problem(new UnsupportedNodeException("non-tensor graph output", "graph output '" + name
                    + "' is not a tensor (" + type.getValueCase() + ")"));
            return;
        }
        ImportedValue value = values.get(name);
        switch (value) {
            case ImportedValue.Constant c when c.data().type() == DataType.FLOAT -> useAsInitializer(name, c.data());
            case ImportedValue.Constant c -> problem(new UnsupportedNodeException(c.data().type() + " graph output",
                    "graph output '" + name + "' is a " + c.data().type() + " constant"));
            case ImportedValue.Ints i -> problem(new UnsupportedNodeException("INT64 graph output",
                    "graph output '" + name + "' is an integer tensor computed from shapes"));
            case null, default -> {
                // Data, or a value no node defines, which the graph builder reports.
            }
        }
    }

    // ---- what NodeContext uses ----

    /** What the importer knows of a value; a name nothing defined yet is read as data (the builder checks it). */
    ImportedValue lookup(String name) {
        ImportedValue v = values.get(name);
        return v != null ? v : new ImportedValue.Data(name);
    }

    void define(String name, ImportedValue value) {
        values.put(name, value);
        if (value instanceof ImportedValue.Constant c) {
            shapes.constant(name, c.data().shape());
        }
    }

    boolean isGraphInput(String name) {
        return graphInputs.contains(name);
    }

    /** Whether any node or the graph's outputs read this value. */
    boolean isRead(String name) {
        return read.contains(name);
    }

    java.nio.file.Path modelFolder() {
        return file.folder();
    }

    ShapeTracker shapes() {
        return shapes;
    }

    void useAsInitializer(String name, TensorData data) {
        initializers.putIfAbsent(name, data);
    }

    void markStatistics(String name) {
        statistics.add(name);
    }

    /** A value name no ONNX value or earlier helper uses. */
    String freshName(String base) {
        String name = base;
        for (int i = 2; names.contains(name); i++) {
            name = base + "_" + i;
        }
        names.add(name);
        return name;
    }

    void addNode(Node node) {
        nodes.add(node);
        for (String out : node.outputs()) {
            if (!out.isEmpty()) {
                values.put(out, new ImportedValue.Data(out));
            }
        }
        shapes.node(node);
    }

    // ---- results ----

    private Graph build() {
        GraphProto proto = file.model().getGraph();
        GraphBuilder builder = new GraphBuilder(proto.getName().isEmpty() ? label() : proto.getName());
        inputs.forEach(v -> builder.input(v.name(), v.shape()));
        List<Tensor> weights = new ArrayList<>();
        try {
            for (Map.Entry<String, TensorData> e : initializers.entrySet()) {
                Tensor t = e.getValue().toTensor();
                weights.add(t);
                builder.initializer(e.getKey(), t);
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            weights.forEach(Tensor::close);
            throw e;
        }
        nodes.forEach(builder::node);
        proto.getOutputList().forEach(v -> builder.output(v.getName()));
        try {
            return builder.build();
        } catch (GraphValidationException e) {
            throw new OnnxFormatException(label() + ": " + e.getMessage(), e);
        }
    }

    private OnnxSummary summary() {
        ModelProto model = file.model();
        long parameters = 0;
        for (Map.Entry<String, TensorData> e : initializers.entrySet()) {
            if (!statistics.contains(e.getKey())) {
                parameters += e.getValue().count();
            }
        }
        List<ValueInfo> outputs = new ArrayList<>();
        for (ValueInfoProto v : model.getGraph().getOutputList()) {
            Shape declared = declaredShape(v.getType(), "graph output '" + v.getName() + "'");
            Shape known = declared != null ? declared : shapes.shapeOf(v.getName());
            outputs.add(new ValueInfo(v.getName(), known != null ? known : Shape.of()));
        }
        String producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();
        return new OnnxSummary(model.getIrVersion(), opsets, producer, inputs, outputs, opCounts, parameters,
                List.copyOf(unsupported));
    }
}
