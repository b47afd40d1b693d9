/**
 * Images in, ImageNet classes out: {@link dev.kiln.models.image.ImageNetPreprocessing} turns a
 * photo into the normalised [1, 3, H, W] tensor torchvision's classifiers expect, and
 * {@link dev.kiln.models.image.ImageNetLabels} names the 1000 classes they predict.
 */
package dev.kiln.models.image;
