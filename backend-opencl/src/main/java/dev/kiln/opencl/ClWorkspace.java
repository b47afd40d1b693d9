package dev.kiln.opencl;

import dev.kiln.Shape;
import dev.kiln.Tensor;
import dev.kiln.spi.memory.MemoryPlan;
import dev.kiln.spi.NodeTimes;
import dev.kiln.spi.Workspace;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_mem;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One execution at a time of a {@link ClPartition}: its own command queue, its own device buffers
 * for the memory plan, and its own kernel objects with their arguments bound once, so that
 * workspaces of one compiled model run on many threads without sharing anything mutable.
 * {@link #execute()} only enqueues; the blocking read in {@link #download} waits for the work.
 */
final class ClWorkspace implements Workspace {
    private final ClPartition partition;
    private final cl_command_queue queue;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final cl_mem[] values;
    private final List<Launch> launches = new ArrayList<>();
    /** Where each step's launches start in {@link #launches}, and one past the last step's. */
    private final int[] stepStarts;
    private boolean closed;

    ClWorkspace(ClPartition partition) {
        this.partition = partition;
        OpenClContext device = partition.device();
        this.queue = device.newQueue();
        try {
            MemoryPlan plan = partition.memoryPlan();
            cl_mem[] buffers = new cl_mem[plan.bufferCount()];
            for (int b = 0; b < buffers.length; b++) {
                buffers[b] = own(device.allocate(plan.bufferBytes().get(b)));
            }
            values = new cl_mem[partition.slots().count()];
            for (int slot = 0; slot < values.length; slot++) {
                Integer buffer = plan.bufferOf().get(partition.slots().name(slot));
                DeviceBuffer constant = partition.constant(slot);
                values[slot] = buffer != null ? buffers[buffer] : constant != null ? constant.mem() : null;
            }
            cl_mem absent = own(device.allocate(Float.BYTES));
            List<ClPartition.Step> steps = partition.steps();
            stepStarts = new int[steps.size() + 1];
            for (int s = 0; s < steps.size(); s++) {
                stepStarts[s] = launches.size();
                launches.addAll(steps.get(s).kernel().bind(new StepBinding(device, steps.get(s), absent)));
            }
            stepStarts[steps.size()] = launches.size();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private cl_mem own(DeviceBuffer buffer) {
        owned.add(buffer);
        return buffer.mem();
    }

    /** A step's view of this workspace's buffers. */
    private final class StepBinding implements Binding {
        private final OpenClContext device;
        private final ClPartition.Step step;
        private final cl_mem absent;

        StepBinding(OpenClContext device, ClPartition.Step step, cl_mem absent) {
            this.device = device;
            this.step = step;
            this.absent = absent;
        }

        @Override
        public OpenClContext context() {
            return device;
        }

        @Override
        public boolean hasInput(int i) {
            return i < step.inputs().length && step.inputs()[i] >= 0;
        }

        @Override
        public cl_mem input(int i) {
            if (!hasInput(i)) {
                return absent;
            }
            cl_mem mem = values[step.inputs()[i]];
            if (mem == null) {
                throw new IllegalStateException("input " + i + " of " + step.node().name() + " has no device buffer");
            }
            return mem;
        }

        @Override
        public cl_mem output(int i) {
            return values[step.outputs()[i]];
        }

        @Override
        public cl_mem scratch(long bytes) {
            return own(device.allocate(bytes));
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this OpenCL workspace is closed");
        }
        if (partition.isClosed()) {
            throw new IllegalStateException("the OpenCL partition of this workspace is closed");
        }
    }

    @Override
    public void upload(int index, Tensor host) {
        requireOpen();
        int slot = partition.slots().inputSlot(index);
        long bytes = partition.shape(slot).elementCount() * Float.BYTES;
        OpenClException.check(CL.clEnqueueWriteBuffer(queue, values[slot], true, 0, bytes, hostPointer(host), 0, null,
                null), "clEnqueueWriteBuffer", "partition input " + index + " (" + bytes + " bytes)");
    }

    @Override
    public void execute() {
        requireOpen();
        for (Launch launch : launches) {
            launch.enqueue(queue);
        }
        OpenClException.check(CL.clFlush(queue), "clFlush");
    }

    /**
     * Each node's launches, then a wait for them: the queue runs in order, so the time from the
     * first enqueue to the end of {@code clFinish} is that node's, with the launch cost included.
     */
    @Override
    public boolean executeTimed(NodeTimes times) {
        requireOpen();
        OpenClException.check(CL.clFinish(queue), "clFinish");
        for (int s = 0; s + 1 < stepStarts.length; s++) {
            long started = System.nanoTime();
            for (int l = stepStarts[s]; l < stepStarts[s + 1]; l++) {
                launches.get(l).enqueue(queue);
            }
            OpenClException.check(CL.clFinish(queue), "clFinish");
            times.record(s, System.nanoTime() - started);
        }
        return true;
    }

    @Override
    public void download(int index, Tensor host) {
        requireOpen();
        int slot = partition.slots().outputSlot(index);
        Shape shape = partition.shape(slot);
        long bytes = shape.elementCount() * Float.BYTES;
        MemorySegment segment = host.segment();
        if (segment.isNative()) {
            OpenClException.check(CL.clEnqueueReadBuffer(queue, values[slot], true, 0, bytes,
                    Pointer.to(segment.asByteBuffer()), 0, null, null), "clEnqueueReadBuffer",
                    "partition output " + index + " (" + bytes + " bytes)");
            return;
        }
        float[] staged = new float[shape.elementCountInt()];
        OpenClException.check(CL.clEnqueueReadBuffer(queue, values[slot], true, 0, bytes, Pointer.to(staged), 0,
                null, null), "clEnqueueReadBuffer", "partition output " + index + " (" + bytes + " bytes)");
        host.copyFrom(staged, 0, 0, staged.length);
    }

    private static Pointer hostPointer(Tensor host) {
        MemorySegment segment = host.segment();
        return segment.isNative() ? Pointer.to(segment.asByteBuffer()) : Pointer.to(host.toFloatArray());
    }

    @Override
    public void finish() {
        if (!closed) {
            OpenClException.check(CL.clFinish(queue), "clFinish");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (queue != null) {
            CL.clFinish(queue);
        }
        launches.forEach(Launch::close);
        owned.forEach(DeviceBuffer::close);
        if (queue != null) {
            CL.clReleaseCommandQueue(queue);
        }
    }
}
