package dev.kiln.cli;

import dev.kiln.KilnException;
import dev.kiln.Tensor;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.Availability;
import dev.kiln.spi.Backend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Device;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

/**
 * A backend registered in the CLI tests that claims every node and then fails, while compiling
 * or while running as the system property {@value #MODE_PROPERTY} says ({@code compile} or
 * {@code run}, with a {@link KilnException}; {@code bug}, with an exception Kiln does not expect
 * while running), or computes nothing ({@code zeros}: every output it downloads is zeros, so it
 * diverges from the reference at its first node); without the property it is unavailable, so the
 * other tests do not see it.
 */
public final class FailingBackend implements Backend {
    static final String ID = "test-failing";
    static final String MODE_PROPERTY = "kiln.test.failingBackend";
    static final String FAILURE = "this test backend fails on purpose";

    @Override
    public String id() {
        return ID;
    }

    @Override
    public int rank() {
        return -1;
    }

    @Override
    public Availability availability() {
        return System.getProperty(MODE_PROPERTY) != null
                ? Availability.AVAILABLE
                : Availability.unavailable("enabled only by the tests that use it");
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        return Support.YES;
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        if ("compile".equals(System.getProperty(MODE_PROPERTY))) {
            throw new KilnException(FAILURE);
        }
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                return new FailingWorkspace();
            }

            @Override
            public void close() {
            }
        };
    }

    private static final class FailingWorkspace implements Workspace {
        @Override
        public void upload(int index, Tensor host) {
        }

        @Override
        public void execute() {
            if ("zeros".equals(System.getProperty(MODE_PROPERTY))) {
                return;
            }
            if ("bug".equals(System.getProperty(MODE_PROPERTY))) {
                throw new IllegalStateException(FAILURE);
            }
            throw new KilnException(FAILURE);
        }

        @Override
        public void download(int index, Tensor host) {
            host.copyFrom(new float[Math.toIntExact(host.elementCount())]);
        }

        @Override
        public void close() {
        }
    }
}
