package dev.kiln.spi;

/** One device a backend can compile for: an id unique within the backend, a name, and its kind. */
public record Device(String id, String name, Kind kind) {
    public enum Kind { CPU, GPU, ACCELERATOR }

    /** The machine's CPU, as backends that run on the host describe it. */
    public static final Device HOST_CPU = new Device("cpu", "host CPU ("
            + Runtime.getRuntime().availableProcessors() + " threads, " + System.getProperty("os.arch") + ")",
            Kind.CPU);
}
