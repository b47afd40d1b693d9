package dev.kiln.spark;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded JPEGs of varied sizes and content (gradients, blocks, noise), so models see different inputs. */
final class TestImages {
    private TestImages() {
    }

    static List<Path> writeJpegs(Path dir, int count, long seed) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(seed);
        List<Path> files = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int width = 96 + random.nextInt(120);
            int height = 96 + random.nextInt(120);
            BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            int r0 = random.nextInt(256);
            int g0 = random.nextInt(256);
            int b0 = random.nextInt(256);
            int block = 8 + random.nextInt(24);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    boolean odd = ((x / block) + (y / block)) % 2 == 1;
                    int r = (r0 + x * 255 / width + (odd ? 60 : 0) + random.nextInt(20)) & 0xff;
                    int g = (g0 + y * 255 / height + random.nextInt(20)) & 0xff;
                    int b = (b0 + (odd ? 0 : 90) + random.nextInt(20)) & 0xff;
                    image.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
            Path file = dir.resolve(String.format("image-%04d.jpg", i));
            if (!ImageIO.write(image, "jpg", file.toFile())) {
                throw new IOException("no JPEG writer in this JVM");
            }
            files.add(file);
        }
        return files;
    }
}
