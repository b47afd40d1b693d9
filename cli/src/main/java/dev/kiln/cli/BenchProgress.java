package dev.kiln.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;

/**
 * A progress bar on stderr for one model of a benchmark: each step is announced with
 * {@link #next(String)} before it starts and counted with {@link #done()} when it ends.
 */
final class BenchProgress implements AutoCloseable {
    private static final int DEFAULT_WIDTH = 79;

    private final ProgressBar bar;

    BenchProgress(PrintWriter err, String task, long steps) {
        bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new WriterConsumer(err, terminalWidth()))
                .build();
    }

    void next(String step) {
        bar.setExtraMessage(step);
    }

    void done() {
        bar.step();
    }

    @Override
    public void close() {
        bar.setExtraMessage("done");
        bar.close();
    }

    private static int terminalWidth() {
        try {
            String columns = System.getenv("COLUMNS");
            return columns == null ? DEFAULT_WIDTH : Math.max(40, Integer.parseInt(columns.trim()) - 1);
        } catch (NumberFormatException e) {
            return DEFAULT_WIDTH;
        }
    }

    /**
     * Draws on the command's error writer, one line redrawn in place. The library's own console
     * consumer wants a PrintStream and probes the terminal through JLine, which the commands'
     * writers (and tests that capture them) do not need.
     */
    private record WriterConsumer(PrintWriter err, int width) implements ProgressBarConsumer {
        @Override
        public int getMaxRenderedLength() {
            return width;
        }

        @Override
        public void accept(String rendered) {
            // Pads over the end of a longer line drawn before.
            err.print('\r' + rendered + " ".repeat(Math.max(0, width - rendered.length())));
            err.flush();
        }

        @Override
        public void close() {
            err.println();
            err.flush();
        }
    }
}
