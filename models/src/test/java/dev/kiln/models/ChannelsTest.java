package dev.kiln.models;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChannelsTest {

    /** Expected values printed by torchvision 0.14.1's {@code _make_divisible(v, 8)}. */
    @ParameterizedTest
    @CsvSource({
            "11.2, 16", // 32 * 0.35: rounds down to 8, more than 10% below, so up again
            "5.6, 8", "8.399999999999999, 8", "1792.0, 1792", "35.2, 32", "44.0, 48", "134.4, 136",
            "33.599999999999994, 32", "416.0, 416", "3.0, 8", "100.0, 104", "70.0, 72", "36.0, 40",
            "211.20000000000002, 208"})
    void makeDivisibleAgreesWithTorchvision(double v, int expected) {
        assertEquals(expected, Channels.makeDivisible(v, 8));
    }

    @ParameterizedTest
    @CsvSource({"0.35, 0.35", "1.4, 1.4", "0.75, 0.75", "1.1, 1.1"})
    void aFloatMultiplierMeansItsDecimal(float multiplier, double expected) {
        assertEquals(expected, Channels.decimal(multiplier));
    }
}
