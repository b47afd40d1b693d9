package dev.kiln.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * The run times of one candidate, and when they have settled. The first run is warm-up (cpu-simd's
 * kernels are JIT-compiled while it runs, native backends touch their memory for the first time);
 * times have settled when the last {@value #WINDOW} after it lie within {@value #SPREAD_PERCENT}% of
 * their median, or after {@value #MAX_TIMED} runs whatever they do (a noisy, shared machine may
 * never settle; a budget share ends the runs too).
 */
final class Timing {
    static final int WINDOW = 5;
    static final int SPREAD_PERCENT = 10;
    static final int MAX_TIMED = 30;

    private final List<Double> millis = new ArrayList<>();
    private final int warmup;

    /** @param warmup leading runs that do not count (1 for a candidate's first runs, 0 once it is warm) */
    Timing(int warmup) {
        this.warmup = warmup;
    }

    void add(double ms) {
        millis.add(ms);
    }

    int runs() {
        return millis.size();
    }

    boolean settled() {
        List<Double> timed = timed();
        if (timed.size() >= MAX_TIMED) {
            return true;
        }
        if (timed.size() < WINDOW) {
            return false;
        }
        List<Double> last = timed.subList(timed.size() - WINDOW, timed.size());
        double min = last.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = last.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return (max - min) <= median(last) * SPREAD_PERCENT / 100.0;
    }

    /** The median of the last {@value #WINDOW} runs after the warm-up; the warm-up run's time when there is no other. */
    double median() {
        List<Double> timed = timed();
        if (timed.isEmpty()) {
            return millis.isEmpty() ? Double.NaN : millis.getFirst();
        }
        return median(timed.subList(Math.max(0, timed.size() - WINDOW), timed.size()));
    }

    private List<Double> timed() {
        return millis.size() <= warmup ? List.of() : millis.subList(warmup, millis.size());
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
