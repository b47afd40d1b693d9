package dev.kiln.models.image;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetPreprocessingTest {
    // torchvision's normalisation, written out from its documentation rather than read from the class.
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};
    private static final double TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    @Test
    void solidRegionsKeepTheirExactColoursThroughResizeAndCrop() {
        // 600x400: resized to 384x256, cropped at left 80, top 16. The quadrants meet at x 300, y 200,
        // which land on crop column and row 112.
        Color topLeft = new Color(200, 30, 90);
        Color topRight = new Color(0, 255, 17);
        Color bottomLeft = new Color(255, 255, 255);
        Color bottomRight = new Color(1, 2, 3);
        BufferedImage image = new BufferedImage(600, 400, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        fill(g, topLeft, 0, 0, 300, 200);
        fill(g, topRight, 300, 0, 300, 200);
        fill(g, bottomLeft, 0, 200, 300, 200);
        fill(g, bottomRight, 300, 200, 300, 200);
        g.dispose();

        try (Tensor t = ImageNetPreprocessing.standard().apply(image)) {
            assertEquals(Shape.of(1, 3, 224, 224), t.shape());
            assertPixel(t, 0, 0, topLeft);
            assertPixel(t, 100, 100, topLeft);
            assertPixel(t, 0, 223, topRight);
            assertPixel(t, 109, 115, topRight);
            assertPixel(t, 223, 0, bottomLeft);
            assertPixel(t, 223, 223, bottomRight);
            assertPixel(t, 115, 115, bottomRight);
        }
    }

    @Test
    void landscapeAndPortraitKeepTheirOrientation() {
        Color first = new Color(250, 0, 0);
        Color second = new Color(0, 0, 250);
        BufferedImage landscape = new BufferedImage(500, 300, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = landscape.createGraphics();
        fill(g, first, 0, 0, 250, 300);
        fill(g, second, 250, 0, 250, 300);
        g.dispose();
        try (Tensor t = ImageNetPreprocessing.standard().apply(landscape)) {
            assertEquals(Shape.of(1, 3, 224, 224), t.shape());
            assertPixel(t, 112, 0, first);
            assertPixel(t, 112, 223, second);
        }

        BufferedImage portrait = new BufferedImage(300, 500, BufferedImage.TYPE_INT_RGB);
        g = portrait.createGraphics();
        fill(g, first, 0, 0, 300, 250);
        fill(g, second, 0, 250, 300, 250);
        g.dispose();
        try (Tensor t = ImageNetPreprocessing.standard().apply(portrait)) {
            assertEquals(Shape.of(1, 3, 224, 224), t.shape());
            assertPixel(t, 0, 112, first);
            assertPixel(t, 223, 112, second);
        }
    }

    @Test
    void otherInputSizesKeepTorchvisionsRatioOfResizeToCrop() {
        assertEquals(256, ImageNetPreprocessing.standard().resizeShorterSide());
        assertEquals(274, ImageNetPreprocessing.forInputSize(240, 240).resizeShorterSide()); // 240 * 256 / 224 = 274.3
        assertEquals(342, ImageNetPreprocessing.forInputSize(299, 299).resizeShorterSide()); // 341.7
        BufferedImage image = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
        try (Tensor t = ImageNetPreprocessing.forInputSize(300, 300).apply(image)) {
            assertEquals(Shape.of(1, 3, 300, 300), t.shape());
        }
        ImageNetPreprocessing wide = ImageNetPreprocessing.forInputSize(192, 256);
        assertEquals(293, wide.resizeShorterSide(), "the longer crop side decides: 256 * 256 / 224 = 292.6");
        try (Tensor t = wide.apply(image)) {
            assertEquals(Shape.of(1, 3, 192, 256), t.shape());
        }
    }

    @Test
    void cropOffsetIsRoundedHalfToEvenAsTorchvisionDoes() {
        // 257x256 needs no resize; (257 - 224) / 2 = 16.5 rounds to 16 in Python, so crop column 0 is image
        // column 16 (and crop row 0 image row 16).
        BufferedImage wide = new BufferedImage(257, 256, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 256; y++) {
            for (int x = 0; x < 257; x++) {
                wide.setRGB(x, y, new Color(x % 256, y, 7).getRGB());
            }
        }
        try (Tensor t = ImageNetPreprocessing.standard().apply(wide)) {
            assertPixel(t, 0, 0, new Color(16, 16, 7));
            assertPixel(t, 223, 223, new Color(239, 239, 7));
        }
        // 256x259: (259 - 224) / 2 = 17.5 rounds to 18 (and columns start at 16).
        BufferedImage tall = new BufferedImage(256, 259, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 259; y++) {
            for (int x = 0; x < 256; x++) {
                tall.setRGB(x, y, new Color(x, y % 256, 7).getRGB());
            }
        }
        try (Tensor t = ImageNetPreprocessing.standard().apply(tall)) {
            assertPixel(t, 0, 0, new Color(16, 18, 7));
            assertPixel(t, 223, 223, new Color(239, 241, 7));
        }
    }

    @Test
    void grayLevelsGoUnchangedIntoEveryChannel() {
        BufferedImage gray8 = new BufferedImage(300, 300, BufferedImage.TYPE_BYTE_GRAY);
        fillRaster(gray8, 128);
        try (Tensor t = ImageNetPreprocessing.standard().apply(gray8)) {
            assertPixel(t, 50, 60, 128 / 255.0, 128 / 255.0, 128 / 255.0);
        }
        BufferedImage gray16 = new BufferedImage(300, 300, BufferedImage.TYPE_USHORT_GRAY);
        fillRaster(gray16, 1000);
        try (Tensor t = ImageNetPreprocessing.standard().apply(gray16)) {
            assertPixel(t, 50, 60, 1000 / 65535.0, 1000 / 65535.0, 1000 / 65535.0);
        }
    }

    @Test
    void alphaIsDiscardedNotComposited() {
        BufferedImage image = new BufferedImage(256, 256, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 256; y++) {
            for (int x = 0; x < 256; x++) {
                image.setRGB(x, y, new Color(10, 20, 30, x < 128 ? 0 : 255).getRGB());
            }
        }
        try (Tensor t = ImageNetPreprocessing.standard().apply(image)) {
            assertPixel(t, 10, 10, new Color(10, 20, 30));
            assertPixel(t, 10, 200, new Color(10, 20, 30));
        }
    }

    @Test
    void shrinkingAveragesFineDetailInsteadOfSamplingIt() {
        // White lines one pixel wide every third column, shrunk 4x: Pillow's widened filter averages
        // about eight columns for each output pixel, giving 1/3 +- 0.021 everywhere, where
        // interpolating between the two nearest columns would give 0 or 0.5.
        BufferedImage lines = new BufferedImage(1024, 1024, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 1024; y++) {
            for (int x = 0; x < 1024; x++) {
                lines.setRGB(x, y, x % 3 == 0 ? 0xffffff : 0);
            }
        }
        try (Tensor t = ImageNetPreprocessing.standard().apply(lines)) {
            float[] values = t.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                int c = i / (224 * 224);
                double level = values[i] * STD[c] + MEAN[c];
                assertEquals(1 / 3.0, level, 0.025, "element " + i);
            }
        }
    }

    @Test
    void pngFilesGiveWhatTheirImagesGive() throws IOException {
        BufferedImage rgb = new BufferedImage(320, 240, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 240; y++) {
            for (int x = 0; x < 320; x++) {
                rgb.setRGB(x, y, new Color(x % 256, y, (x * y) % 256).getRGB());
            }
        }
        BufferedImage gray = new BufferedImage(240, 320, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 320; y++) {
            for (int x = 0; x < 240; x++) {
                gray.getRaster().setSample(x, y, 0, (x + 2 * y) % 256);
            }
        }
        for (BufferedImage image : new BufferedImage[]{rgb, gray}) {
            Path png = dir.resolve("image.png");
            assertTrue(ImageIO.write(image, "png", png.toFile()));
            ImageNetPreprocessing preprocessing = ImageNetPreprocessing.standard();
            try (Tensor fromFile = preprocessing.read(png);
                 Tensor fromImage = preprocessing.apply(image)) {
                assertEquals(Shape.of(1, 3, 224, 224), fromFile.shape());
                assertArrayEquals(fromImage.toFloatArray(), fromFile.toFloatArray());
            }
        }
    }

    @Test
    void bytesInMemoryGiveWhatTheirFileGives() throws IOException {
        BufferedImage image = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                image.setRGB(x, y, new Color((x * 3) % 256, (y * 5) % 256, (x + y) % 256).getRGB());
            }
        }
        Path jpeg = dir.resolve("photo.jpg");
        assertTrue(ImageIO.write(image, "jpg", jpeg.toFile()));
        ImageNetPreprocessing preprocessing = ImageNetPreprocessing.forInputSize(128, 128);
        try (Tensor fromFile = preprocessing.read(jpeg);
             Tensor fromBytes = preprocessing.read(Files.readAllBytes(jpeg), "s3://bucket/photo.jpg")) {
            assertEquals(Shape.of(1, 3, 128, 128), fromBytes.shape());
            assertArrayEquals(fromFile.toFloatArray(), fromBytes.toFloatArray());
        }
        IOException e = assertThrows(IOException.class,
                () -> preprocessing.read("not a picture".getBytes(), "s3://bucket/notes.jpg"));
        assertEquals("s3://bucket/notes.jpg: not an image ImageIO can read (JPEG, PNG, BMP, GIF, WBMP)", e.getMessage());
    }

    @Test
    void fileThatIsNoImageIsRefusedByName() throws IOException {
        Path text = Files.writeString(dir.resolve("holiday.jpg"), "not a picture");
        IOException e = assertThrows(IOException.class, () -> ImageNetPreprocessing.standard().read(text));
        assertTrue(e.getMessage().contains("holiday.jpg") && e.getMessage().contains("not an image"), e.getMessage());

        Path truncated = dir.resolve("truncated.png");
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        assertTrue(ImageIO.write(image, "png", truncated.toFile()));
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(truncated, java.util.Arrays.copyOf(bytes, 40));
        e = assertThrows(IOException.class, () -> ImageNetPreprocessing.standard().read(truncated));
        assertTrue(e.getMessage().contains("truncated.png") && e.getMessage().contains("cannot decode"),
                e.getMessage());

        Path absent = dir.resolve("absent.png");
        e = assertThrows(NoSuchFileException.class, () -> ImageNetPreprocessing.standard().read(absent));
        assertTrue(e.getMessage().contains("absent.png"), e.getMessage());
    }

    private static void fill(Graphics2D g, Color colour, int x, int y, int width, int height) {
        g.setColor(colour);
        g.fillRect(x, y, width, height);
    }

    private static void fillRaster(BufferedImage image, int level) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                image.getRaster().setSample(x, y, 0, level);
            }
        }
    }

    private static void assertPixel(Tensor t, int y, int x, Color expected) {
        assertPixel(t, y, x, expected.getRed() / 255.0, expected.getGreen() / 255.0, expected.getBlue() / 255.0);
    }

    /** Expected levels in [0, 1], before normalisation. */
    private static void assertPixel(Tensor t, int y, int x, double... levels) {
        int height = t.shape().dim(2);
        int width = t.shape().dim(3);
        for (int c = 0; c < 3; c++) {
            double expected = (levels[c] - MEAN[c]) / STD[c];
            float actual = t.get(((long) c * height + y) * width + x);
            assertEquals(expected, actual, TOLERANCE, "channel " + c + " at (" + y + ", " + x + ")");
        }
    }
}
