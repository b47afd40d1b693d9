package dev.kiln.models.image;

import dev.kiln.Shape;
import dev.kiln.Tensor;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * The evaluation transform of torchvision's ImageNet classifiers, for a JPEG, PNG (or any other
 * format ImageIO reads) or a {@link BufferedImage}: resize so that the shorter side is
 * {@link #resizeShorterSide()} (256 for a 224 crop), crop the centre to the model's input size,
 * scale to [0, 1], subtract the ImageNet mean and divide by its standard deviation, per channel
 * in RGB order. The result is a float32 tensor [1, 3, H, W].
 *
 * <p>For a crop other than 224 the shorter side goes to {@code round(crop * 256 / 224)}, keeping
 * torchvision's ratio. Sizes follow torchvision exactly: the longer side becomes
 * {@code floor(256 * long / short)}, and the crop's offset is {@code (size - crop) / 2} rounded
 * half to even, as Python's {@code round} does.
 *
 * <p>Resampling: Pillow's {@code BILINEAR} filter (see {@link ResampleWeights}), which is what
 * torchvision's {@code Resize} applies to a PIL image. Pillow computes in 8-bit integers and
 * rounds after each of its two passes, while this class keeps floats throughout, so values differ
 * slightly from torchvision's: compared with torchvision 0.14 and Pillow 9.4 on a JPEG photo and
 * on noisy, grayscale and enlarged PNGs, by less than one level in 255 (0.3 on average). (A plain bilinear interpolation without the widened filter, such as
 * {@code torch.nn.functional.interpolate} without {@code antialias}, differs far more on photos
 * much larger than 256.)
 *
 * <p>Colours: grayscale images are replicated into R, G and B from their stored levels; an alpha
 * channel is discarded without compositing. Both are what Pillow's {@code convert("RGB")}, used
 * by torchvision's image loaders, does. Images of more than {@value #MAX_PIXELS} pixels are
 * refused before they are decoded.
 */
public final class ImageNetPreprocessing {
    /** The input size of most ImageNet models, and the one torchvision's recipe is written for. */
    public static final int STANDARD_CROP = 224;
    /** The shorter side before a {@value #STANDARD_CROP} crop. */
    public static final int STANDARD_RESIZE = 256;
    /** The largest image decoded: a decoded image costs about 4 bytes per pixel. */
    public static final long MAX_PIXELS = 100_000_000L;

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};
    private static final int CHANNELS = 3;

    private final int cropHeight;
    private final int cropWidth;
    private final int resizeShorterSide;

    private ImageNetPreprocessing(int cropHeight, int cropWidth) {
        if (cropHeight < 1 || cropWidth < 1) {
            throw new IllegalArgumentException("crop size must be positive, got " + cropHeight + "x" + cropWidth);
        }
        this.cropHeight = cropHeight;
        this.cropWidth = cropWidth;
        // The larger crop side decides, so that the crop always fits inside the resized image.
        this.resizeShorterSide = Math.round(Math.max(cropHeight, cropWidth) * (float) STANDARD_RESIZE / STANDARD_CROP);
    }

    /** The standard recipe: shorter side to 256, centre crop 224x224. */
    public static ImageNetPreprocessing standard() {
        return forInputSize(STANDARD_CROP, STANDARD_CROP);
    }

    /** For a model whose input is [N, 3, height, width]. */
    public static ImageNetPreprocessing forInputSize(int height, int width) {
        return new ImageNetPreprocessing(height, width);
    }

    public int cropHeight() {
        return cropHeight;
    }

    public int cropWidth() {
        return cropWidth;
    }

    /** What the shorter side of the image is resized to before cropping. */
    public int resizeShorterSide() {
        return resizeShorterSide;
    }

    /**
     * Reads an image file and preprocesses it into a new tensor [1, 3, H, W], which the caller
     * closes.
     *
     * @throws IOException naming the file when it is missing, not an image ImageIO can decode,
     *                     damaged, or larger than {@value #MAX_PIXELS} pixels
     */
    public Tensor read(Path file) throws IOException {
        return apply(decode(file));
    }

    /**
     * Decodes an image held in memory (a row of Spark's {@code binaryFile} source, an upload) and
     * preprocesses it into a new tensor [1, 3, H, W], which the caller closes.
     *
     * @param source names the image in messages (its path or URL)
     * @throws IOException naming {@code source} when the bytes are not an image ImageIO can
     *                     decode, damaged, or larger than {@value #MAX_PIXELS} pixels
     */
    public Tensor read(byte[] encoded, String source) throws IOException {
        try (ImageInputStream stream = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            return apply(decode(stream, source));
        }
    }

    /** Preprocesses an image into a new tensor [1, 3, H, W], which the caller closes. */
    public Tensor apply(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        boolean portrait = height > width;
        int shorter = Math.min(width, height);
        int longer = (int) ((long) resizeShorterSide * Math.max(width, height) / shorter);
        int newWidth = portrait ? resizeShorterSide : longer;
        int newHeight = portrait ? longer : resizeShorterSide;
        float[][] resized = resize(image, newWidth, newHeight);

        int top = centredOffset(newHeight, cropHeight);
        int left = centredOffset(newWidth, cropWidth);
        float[] values = new float[CHANNELS * cropHeight * cropWidth];
        int index = 0;
        for (int c = 0; c < CHANNELS; c++) {
            for (int y = 0; y < cropHeight; y++) {
                int row = (top + y) * newWidth + left;
                for (int x = 0; x < cropWidth; x++) {
                    values[index++] = (resized[c][row + x] - MEAN[c]) / STD[c];
                }
            }
        }
        return Tensor.of(Shape.of(1, CHANNELS, cropHeight, cropWidth), values);
    }

    private static int centredOffset(int size, int crop) {
        return (int) Math.rint((size - crop) / 2.0);
    }

    /**
     * RGB planes in [0, 1] of the image resized to newWidth x newHeight. Rows are resized as
     * they are read, so the full-size image is never held as floats.
     */
    private static float[][] resize(BufferedImage image, int newWidth, int newHeight) {
        int width = image.getWidth();
        int height = image.getHeight();
        ResampleWeights horizontal = ResampleWeights.bilinear(width, newWidth);
        ResampleWeights vertical = ResampleWeights.bilinear(height, newHeight);
        RowReader rows = new RowReader(image);
        float[][] narrowed = new float[CHANNELS][newWidth * height];
        for (int y = 0; y < height; y++) {
            float[][] row = rows.read(y);
            for (int c = 0; c < CHANNELS; c++) {
                for (int x = 0; x < newWidth; x++) {
                    narrowed[c][y * newWidth + x] = horizontal.sample(row[c], 0, 1, x);
                }
            }
        }
        float[][] resized = new float[CHANNELS][newWidth * newHeight];
        for (int c = 0; c < CHANNELS; c++) {
            for (int y = 0; y < newHeight; y++) {
                for (int x = 0; x < newWidth; x++) {
                    resized[c][y * newWidth + x] = vertical.sample(narrowed[c], x, newWidth, y);
                }
            }
        }
        return resized;
    }

    /** One row at a time as RGB in [0, 1], whatever the image's type. */
    private static final class RowReader {
        private final BufferedImage image;
        private final boolean gray;
        private final float grayMax;
        private final int[] pixels;
        private final float[][] row;

        RowReader(BufferedImage image) {
            this.image = image;
            // getRGB would map gray through a linear-to-sRGB curve (level 128 becomes 187); Pillow
            // copies the stored level into R, G and B, so gray levels are read from the raster.
            this.gray = image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
            this.grayMax = gray ? (1 << image.getColorModel().getComponentSize(0)) - 1 : 255;
            this.pixels = new int[image.getWidth()];
            this.row = new float[CHANNELS][image.getWidth()];
        }

        float[][] read(int y) {
            int width = image.getWidth();
            if (gray) {
                image.getRaster().getSamples(0, y, width, 1, 0, pixels);
                for (int x = 0; x < width; x++) {
                    float level = pixels[x] / grayMax;
                    row[0][x] = level;
                    row[1][x] = level;
                    row[2][x] = level;
                }
                return row;
            }
            image.getRGB(0, y, width, 1, pixels, 0, width); // non-premultiplied ARGB; the alpha byte is ignored
            for (int x = 0; x < width; x++) {
                int argb = pixels[x];
                row[0][x] = ((argb >> 16) & 0xff) / 255f;
                row[1][x] = ((argb >> 8) & 0xff) / 255f;
                row[2][x] = (argb & 0xff) / 255f;
            }
            return row;
        }
    }

    private static BufferedImage decode(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": a folder, not an image");
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
        try (ImageInputStream stream = ImageIO.createImageInputStream(file.toFile())) {
            return decode(stream, file.toString());
        }
    }

    private static BufferedImage decode(ImageInputStream stream, String file) throws IOException {
        Iterator<ImageReader> readers = stream == null ? null : ImageIO.getImageReaders(stream);
        if (readers == null || !readers.hasNext()) {
            throw new IOException(file + ": not an image ImageIO can read (JPEG, PNG, BMP, GIF, WBMP)");
        }
        ImageReader reader = readers.next();
        try {
            String format = reader.getFormatName();
            reader.setInput(stream, true, true);
            long pixels;
            try {
                pixels = (long) reader.getWidth(0) * reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw cannotDecode(file, format, e);
            }
            if (pixels == 0 || pixels > MAX_PIXELS) {
                throw new IOException(file + ": the image is " + reader.getWidth(0) + "x" + reader.getHeight(0)
                        + " pixels; Kiln decodes from 1 to " + MAX_PIXELS + " pixels");
            }
            try {
                return reader.read(0);
            } catch (IOException | RuntimeException e) {
                throw cannotDecode(file, format, e);
            }
        } finally {
            reader.dispose();
        }
    }

    // ImageIO's own messages ("Unsupported Image Type", "Error reading PNG image data") name no file.
    private static IOException cannotDecode(String file, String format, Exception cause) {
        return new IOException(file + ": cannot decode this " + format + " image: "
                + cause.getMessage(), cause);
    }
}
