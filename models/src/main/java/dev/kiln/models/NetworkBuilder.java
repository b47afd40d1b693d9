package dev.kiln.models;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.ops.Activation;
import dev.kiln.graph.ops.ActivationFunction;
import dev.kiln.graph.ops.BatchNormalization;
import dev.kiln.graph.ops.Binary;
import dev.kiln.graph.ops.Concat;
import dev.kiln.graph.ops.Conv;
import dev.kiln.graph.ops.Flatten;
import dev.kiln.graph.ops.Gemm;
import dev.kiln.graph.ops.GlobalPool;
import dev.kiln.graph.ops.MaxPool;
import dev.kiln.graph.ops.Op;
import dev.kiln.graph.ops.Passthrough;
import dev.kiln.graph.ops.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What the family builders share: adds layers one call at a time, creating their weights and
 * tracking every value's shape (at batch 1) so that a layer can read its input channels.
 *
 * <p>Naming: a layer with weights is named by its torchvision module path ({@code layer1.0.conv1})
 * and its initializers by the matching {@code state_dict} keys ({@code layer1.0.conv1.weight},
 * {@code layer1.0.bn1.running_var}), so pretrained torchvision weights map onto the graph by
 * name. Each node's output value has the node's name; a repeated name (torchvision reuses one
 * ReLU module several times in a block) gets a {@code _1}, {@code _2}... suffix.
 */
final class NetworkBuilder {
    static final String INPUT = "input";
    static final String LOGITS = "logits";

    private static final Distribution BIAS = new Distribution.Uniform(-0.1, 0.1);
    private static final Distribution BN_GAMMA = new Distribution.Uniform(0.5, 1.5);
    /**
     * The batch-norm that closes a residual branch gets a smaller scale: each Add would otherwise
     * double the variance, 2^50 over ResNet-152's blocks. torchvision's {@code zero_init_residual}
     * option starts these scales at zero for the same reason.
     */
    private static final Distribution BN_GAMMA_RESIDUAL = new Distribution.Uniform(0.1, 0.5);
    private static final Distribution BN_BETA = new Distribution.Uniform(-0.1, 0.1);
    private static final Distribution BN_MEAN = new Distribution.Normal(0, 0.1);
    private static final Distribution BN_VAR = new Distribution.Uniform(0.5, 2.0);

    private final GraphBuilder graph;
    private final WeightInit init;
    private final Map<String, Shape> shapes = new HashMap<>();
    private final Map<String, Integer> nameUses = new HashMap<>();
    private final List<Tensor> weights = new ArrayList<>();

    private NetworkBuilder(String graphName, Shape inputShape, WeightInit init) {
        this.graph = new GraphBuilder(graphName);
        this.init = init;
        graph.input(INPUT, inputShape);
        shapes.put(INPUT, inputShape.withDim(0, 1));
    }

    /**
     * Builds a graph: {@code body} adds the layers to the graph input and returns the value that
     * becomes the graph's output. The graph owns its weights; if building fails they are freed.
     */
    static Graph build(String graphName, Shape inputShape, WeightInit init, Function<NetworkBuilder, String> body) {
        NetworkBuilder builder = new NetworkBuilder(graphName, inputShape, init);
        try {
            builder.graph.output(body.apply(builder));
            return builder.graph.build();
        } catch (RuntimeException | Error e) {
            builder.weights.forEach(Tensor::close);
            throw e;
        }
    }

    /** The graph input, [N, 3, H, W]. */
    String input() {
        return INPUT;
    }

    Shape shape(String value) {
        Shape s = shapes.get(value);
        if (s == null) {
            throw new IllegalArgumentException("no value '" + value + "' in the network built so far");
        }
        return s;
    }

    int channels(String value) {
        return shape(value).dim(1);
    }

    /**
     * A square convolution with padding (kernel - 1) / 2, which is what every convolution in the
     * six families uses (torchvision's conv3x3, conv1x1, Conv2dNormActivation, and the 7x7 stems).
     */
    String conv(String module, String x, int outChannels, int kernel, int stride, int groups, boolean bias) {
        int inChannels = channels(x);
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(module + ": " + inChannels + " -> " + outChannels
                    + " channels do not divide into " + groups + " groups");
        }
        int fanIn = inChannels / groups * kernel * kernel;
        List<String> inputs = new ArrayList<>(List.of(x,
                weight(module + ".weight", Shape.of(outChannels, inChannels / groups, kernel, kernel),
                        Distribution.heNormal(fanIn))));
        if (bias) {
            inputs.add(weight(module + ".bias", Shape.of(outChannels), BIAS));
        }
        return node(module, new Conv(Window.square(kernel, stride, (kernel - 1) / 2), groups), inputs);
    }

    /** Convolution without bias: the form used before a batch-norm. */
    String conv(String module, String x, int outChannels, int kernel, int stride) {
        return conv(module, x, outChannels, kernel, stride, 1, false);
    }

    String batchNorm(String module, String x, float epsilon) {
        return batchNorm(module, x, epsilon, BN_GAMMA);
    }

    /** A batch-norm whose output is added to a shortcut; see {@link #BN_GAMMA_RESIDUAL}. */
    String residualBatchNorm(String module, String x, float epsilon) {
        return batchNorm(module, x, epsilon, BN_GAMMA_RESIDUAL);
    }

    private String batchNorm(String module, String x, float epsilon, Distribution gamma) {
        Shape channels = Shape.of(channels(x));
        return node(module, new BatchNormalization(epsilon), List.of(x,
                weight(module + ".weight", channels, gamma),
                weight(module + ".bias", channels, BN_BETA),
                weight(module + ".running_mean", channels, BN_MEAN),
                weight(module + ".running_var", channels, BN_VAR)));
    }

    String activation(String name, String x, ActivationFunction function) {
        return node(name, new Activation(function), List.of(x));
    }

    String relu(String name, String x) {
        return activation(name, x, ActivationFunction.RELU);
    }

    String add(String name, String a, String b) {
        return node(name, Binary.ADD, List.of(a, b));
    }

    String mul(String name, String a, String b) {
        return node(name, Binary.MUL, List.of(a, b));
    }

    String maxPool(String name, String x, int kernel, int stride, int padding, boolean ceilMode) {
        return node(name, new MaxPool(Window.square(kernel, stride, padding), ceilMode), List.of(x));
    }

    String globalAveragePool(String name, String x) {
        return node(name, GlobalPool.AVERAGE, List.of(x));
    }

    /** torch.flatten(x, 1): [N, C, 1, 1] to [N, C]. */
    String flatten(String name, String x) {
        return node(name, new Flatten(1), List.of(x));
    }

    String dropout(String name, String x) {
        return node(name, Passthrough.DROPOUT, List.of(x));
    }

    String concat(String name, List<String> xs) {
        return node(name, new Concat(1), xs);
    }

    /** nn.Linear: y = x W^T + b with W [out, in]. */
    String fullyConnected(String module, String x, int outFeatures) {
        return fullyConnected(module, module, x, outFeatures);
    }

    /** The classifier's last layer, whose output is the graph output {@value #LOGITS}. */
    String logits(String module, String x, int classes) {
        return fullyConnected(module, LOGITS, x, classes);
    }

    private String fullyConnected(String module, String nodeName, String x, int outFeatures) {
        Shape in = shape(x);
        if (in.rank() != 2) {
            throw new IllegalArgumentException(module + ": a fully connected layer needs [N, features], got " + in);
        }
        int inFeatures = in.dim(1);
        return node(nodeName, Gemm.FULLY_CONNECTED, List.of(x,
                weight(module + ".weight", Shape.of(outFeatures, inFeatures), Distribution.heNormal(inFeatures)),
                weight(module + ".bias", Shape.of(outFeatures), BIAS)));
    }

    private String weight(String name, Shape shape, Distribution distribution) {
        if (shapes.containsKey(name)) {
            throw new IllegalStateException("weight '" + name + "' is defined twice");
        }
        Tensor tensor = Weights.create(init, name, shape, distribution);
        weights.add(tensor);
        graph.initializer(name, tensor);
        shapes.put(name, shape);
        return name;
    }

    private String node(String name, Op op, List<String> inputs) {
        String unique = uniqueName(name);
        List<Shape> inShapes = inputs.stream().map(this::shape).toList();
        List<Shape> outShapes;
        try {
            outShapes = op.inferShapes(inShapes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("layer '" + unique + "' (" + op.type() + ") on inputs " + inputs
                    + " " + inShapes + ": " + e.getMessage(), e);
        }
        graph.node(unique, op, inputs, List.of(unique));
        shapes.put(unique, outShapes.getFirst());
        return unique;
    }

    private String uniqueName(String name) {
        int uses = nameUses.merge(name, 1, Integer::sum);
        String unique = uses == 1 ? name : name + "_" + (uses - 1);
        if (shapes.containsKey(unique)) {
            throw new IllegalStateException("name '" + unique + "' is already used");
        }
        return unique;
    }
}
