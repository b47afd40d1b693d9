package dev.kiln.models;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The model zoo: every family and variant by name. */
public final class Models {
    private static final List<ModelSpec> ALL;
    private static final Map<String, ModelSpec> BY_NAME = new LinkedHashMap<>();
    private static final List<String> REPRESENTATIVES = List.of("vgg16", "googlenet", "resnet50", "mobilenet_v1",
            "mobilenet_v2", "efficientnet_b0");

    static {
        List<ModelSpec> all = new ArrayList<>();
        all.addAll(Vgg.all());
        all.addAll(GoogLeNet.all());
        all.addAll(ResNet.all());
        all.addAll(MobileNetV1.all());
        all.addAll(MobileNetV2.all());
        all.addAll(EfficientNet.all());
        ALL = List.copyOf(all);
        for (ModelSpec spec : ALL) {
            register(spec.name(), spec);
        }
        // The defaults' full names, as the other variants spell theirs.
        register("mobilenet_v1_1.0_224", byName("mobilenet_v1"));
        register("mobilenet_v2_1.0", byName("mobilenet_v2"));
    }

    private static void register(String name, ModelSpec spec) {
        if (BY_NAME.putIfAbsent(name, spec) != null) {
            throw new IllegalStateException("two models are named " + name);
        }
    }

    private Models() {
    }

    /** Every family and variant, in a stable order: family by family, smallest variant first. */
    public static List<ModelSpec> all() {
        return ALL;
    }

    /**
     * The model of this name, e.g. {@code resnet50}; the defaults of MobileNet v1 and v2 also
     * answer to {@code mobilenet_v1_1.0_224} and {@code mobilenet_v2_1.0}.
     *
     * @throws IllegalArgumentException naming the known models when there is none of this name
     */
    public static ModelSpec byName(String name) {
        ModelSpec spec = BY_NAME.get(name);
        if (spec == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'; known models: "
                    + String.join(", ", BY_NAME.keySet()));
        }
        return spec;
    }

    /** Every name {@link #byName} knows: the models in the order of {@link #all}, then the aliases. */
    public static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }

    /** One model per family, the classic configuration of each. */
    public static List<ModelSpec> representatives() {
        return REPRESENTATIVES.stream().map(Models::byName).toList();
    }
}
