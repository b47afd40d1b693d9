package dev.kiln.selection;

import dev.kiln.Tensor;
import dev.kiln.reference.ReferenceBackend;
import dev.kiln.spi.BoundNode;
import dev.kiln.spi.CompileContext;
import dev.kiln.spi.CompiledPartition;
import dev.kiln.spi.Partition;
import dev.kiln.spi.Support;
import dev.kiln.spi.Workspace;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reference backend's kernels under another id, rank and version, made as slow as a test
 * needs (a sleep per run) and counting its compiles, so that selection can be watched without
 * timing anything real.
 */
final class TimedBackend implements dev.kiln.spi.Backend {
    private final ReferenceBackend delegate = new ReferenceBackend();
    private final String id;
    private final int rank;
    private final String version;
    private final long sleepMillis;
    final AtomicInteger compiles = new AtomicInteger();
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger probes = new AtomicInteger();
    /** Calls that a real backend answers only once initialized: its devices, whether it runs a node. */
    final AtomicInteger deviceLookups = new AtomicInteger();
    final AtomicInteger supportQueries = new AtomicInteger();
    /** Fails every compile when set: a candidate that must be dropped with its reason. */
    volatile boolean failCompile;
    /** Says it cannot run here when set. */
    volatile boolean unavailable;

    TimedBackend(String id, int rank, String version, long sleepMillis) {
        this.id = id;
        this.rank = rank;
        this.version = version;
        this.sleepMillis = sleepMillis;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public dev.kiln.spi.Availability availability() {
        probes.incrementAndGet();
        return unavailable ? dev.kiln.spi.Availability.unavailable("switched off by the test")
                : dev.kiln.spi.Availability.AVAILABLE;
    }

    @Override
    public java.util.List<dev.kiln.spi.Device> devices() {
        deviceLookups.incrementAndGet();
        return delegate.devices();
    }

    @Override
    public Support supports(BoundNode node, CompileContext context) {
        supportQueries.incrementAndGet();
        return delegate.supports(node, context);
    }

    @Override
    public CompiledPartition compile(Partition partition, CompileContext context) {
        compiles.incrementAndGet();
        if (failCompile) {
            throw new IllegalStateException("the test's backend refuses to compile");
        }
        CompiledPartition inner = delegate.compile(partition, context);
        return new CompiledPartition() {
            @Override
            public Workspace newWorkspace() {
                Workspace w = inner.newWorkspace();
                return new Workspace() {
                    @Override
                    public void upload(int index, Tensor host) {
                        w.upload(index, host);
                    }

                    @Override
                    public void execute() {
                        runs.incrementAndGet();
                        if (sleepMillis > 0) {
                            try {
                                Thread.sleep(sleepMillis);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        w.execute();
                    }

                    @Override
                    public void download(int index, Tensor host) {
                        w.download(index, host);
                    }

                    @Override
                    public void close() {
                        w.close();
                    }
                };
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
