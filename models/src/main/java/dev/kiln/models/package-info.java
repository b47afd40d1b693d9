/**
 * The model zoo: builders for the six CNN families Kiln exists for (VGG, GoogLeNet, ResNet,
 * MobileNet v1 and v2, EfficientNet), each variant a {@link dev.kiln.models.ModelSpec} found
 * by name through {@link dev.kiln.models.Models}.
 *
 * <p>The graphs match torchvision 0.14's definitions layer for layer (MobileNet v1, which
 * torchvision lacks, follows its paper), with nothing fused: the optimizer does that. Their
 * initializers carry torchvision's {@code state_dict} names, so pretrained weights map onto
 * them by name. Weights are seeded random values ({@link dev.kiln.models.WeightInit#seeded}),
 * reproducible from the model name and seed, scaled so that activations keep a usable magnitude
 * through every family, with non-trivial batch-norm statistics; or zeros, for structure-only
 * uses such as counting parameters and MACs.
 */
package dev.kiln.models;
