package dev.kiln.graph.ops;

/**
 * A pointwise activation, used both as a standalone op ({@link Activation}) and as a
 * convolution epilogue ({@link PostOp.Activate}). One definition of the math serves both.
 */
public record ActivationFunction(Kind kind, float alpha, float beta) {

    public enum Kind {
        /** max(0, x) */
        RELU("Relu"),
        /** min(max(x, alpha), beta); ReLU6 is alpha 0, beta 6 */
        CLIP("Clip"),
        /** 1 / (1 + e^-x) */
        SIGMOID("Sigmoid"),
        /** x * sigmoid(x), also called swish; not an ONNX op, PyTorch exports it as Sigmoid and Mul */
        SILU("SiLU"),
        /** max(0, min(1, alpha * x + beta)) */
        HARD_SIGMOID("HardSigmoid"),
        /** x * max(0, min(1, x / 6 + 1/2)) */
        HARD_SWISH("HardSwish"),
        /** x if x >= 0 else alpha * x */
        LEAKY_RELU("LeakyRelu"),
        /** tanh(x) */
        TANH("Tanh");

        private final String onnxName;

        Kind(String onnxName) {
            this.onnxName = onnxName;
        }

        public String opType() {
            return onnxName;
        }
    }

    public static final ActivationFunction RELU = new ActivationFunction(Kind.RELU, 0, 0);
    public static final ActivationFunction RELU6 = clip(0, 6);
    public static final ActivationFunction SIGMOID = new ActivationFunction(Kind.SIGMOID, 0, 0);
    public static final ActivationFunction SILU = new ActivationFunction(Kind.SILU, 0, 0);
    public static final ActivationFunction HARD_SWISH = new ActivationFunction(Kind.HARD_SWISH, 0, 0);
    public static final ActivationFunction TANH = new ActivationFunction(Kind.TANH, 0, 0);

    public static ActivationFunction clip(float min, float max) {
        return new ActivationFunction(Kind.CLIP, min, max);
    }

    /** ONNX defaults are alpha 0.2, beta 0.5. */
    public static ActivationFunction hardSigmoid(float alpha, float beta) {
        return new ActivationFunction(Kind.HARD_SIGMOID, alpha, beta);
    }

    public static ActivationFunction leakyRelu(float alpha) {
        return new ActivationFunction(Kind.LEAKY_RELU, alpha, 0);
    }

    public float apply(float x) {
        return switch (kind) {
            case RELU -> Math.max(x, 0f);
            case CLIP -> Math.min(Math.max(x, alpha), beta);
            case SIGMOID -> sigmoid(x);
            case SILU -> x * sigmoid(x);
            case HARD_SIGMOID -> Math.max(0f, Math.min(1f, alpha * x + beta));
            case HARD_SWISH -> x * Math.max(0f, Math.min(1f, x / 6f + 0.5f));
            case LEAKY_RELU -> x >= 0 ? x : alpha * x;
            case TANH -> (float) Math.tanh(x);
        };
    }

    private static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CLIP -> "Clip(" + alpha + ", " + beta + ")";
            case HARD_SIGMOID -> "HardSigmoid(" + alpha + ", " + beta + ")";
            case LEAKY_RELU -> "LeakyRelu(" + alpha + ")";
            default -> kind.opType();
        };
    }
}
