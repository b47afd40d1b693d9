package dev.kiln.runtime;

/**
 * What values passed between partitions cost so far, counted by the runs of one plan: host
 * transfers (a download by the producing partition or an upload by a reading one, each a copy and
 * usually a layout conversion) and their bytes as float32 host tensors, and resident handovers
 * (a value taken by a partition of the same backend in that backend's form). The caller's inputs
 * and the downloads of graph outputs are not counted: every run needs them.
 */
public record BoundaryTraffic(long runs, long hostTransfers, long hostBytes, long residentHandovers) {
}
