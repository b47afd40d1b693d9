#!/usr/bin/python3
"""Adds inputs and PyTorch's outputs at more batch sizes to a folder of parity fixtures that
export_models.py wrote, without touching what is already there.

Usage: /usr/bin/python3 parity/export_batches.py FIXTURES_DIR BATCH [BATCH ...]

For each model of FIXTURES_DIR/manifest.json and each BATCH it writes
FIXTURES_DIR/<model>/input_b<N>.npy and output_b<N>.npy (the same seeded input and float64
forward as export_models.py), then FIXTURES_DIR/batches-b<N>.json describing them and the
marker FIXTURES_DIR/.complete-b<N>. Files that exist are left as they are: the folder may be
shared by other checkouts that are reading it.

Why a script of its own: a batch size added to scripts/prepare-test-fixtures.sh's list then
adds files to the folder instead of regenerating all 3 GB (the folder is keyed by these scripts
and the package versions, not by the list). The rebuilt model is checked against the folder
before anything is written: its batch-1 output must equal output_b1.npy, so the new outputs
belong to the weights in the ONNX files. Only the six networks of export_models.py get more
batches; export_reduced.py's, in the subfolder `reduced`, have their own manifest.
"""

import json
import os
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import export_models  # noqa: E402 (after the line above)

# The rebuilt float64 forward is the same computation as the one that wrote output_b1.npy; it
# may differ only in the last bits if a library chose another summation order.
SAME_MODEL_TOLERANCE = 1e-6


def write_new_npy(path, array):
    """Writes through a temporary file and a rename, so a reader never sees half a file."""
    if os.path.exists(path):
        return False
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".partial-", suffix=".npy")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(array, dtype=np.float32))
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return True


def check_same_model(name, model64, model_index, fixtures_dir):
    x = export_models.make_input(model_index, 1)
    stored_input = np.load(os.path.join(fixtures_dir, name, "input_b1.npy"))
    if not np.array_equal(x, stored_input):
        raise RuntimeError(f"{name}: the batch-1 input made now differs from {name}/input_b1.npy")
    y = export_models.reference_output(model64, x)
    stored = np.load(os.path.join(fixtures_dir, name, "output_b1.npy"))
    difference = float(np.max(np.abs(y - stored)) / np.max(np.abs(stored)))
    if difference > SAME_MODEL_TOLERANCE:
        raise RuntimeError(f"{name}: the rebuilt model's batch-1 output differs from {name}/output_b1.npy by "
                           f"{difference:.2e} of its largest value: not the model the ONNX files hold")


def add_batch(fixtures_dir, names, batch):
    summary = {}
    for name in names:
        started = time.time()
        model_index = list(export_models.MODELS).index(name)
        model64 = export_models.build_model(name).double()
        check_same_model(name, model64, model_index, fixtures_dir)
        x = export_models.make_input(model_index, batch)
        y = export_models.reference_output(model64, x)
        input_file = f"{name}/input_b{batch}.npy"
        output_file = f"{name}/output_b{batch}.npy"
        wrote = write_new_npy(os.path.join(fixtures_dir, input_file), x)
        wrote |= write_new_npy(os.path.join(fixtures_dir, output_file), y)
        summary[name] = {
            "input": input_file,
            "output": output_file,
            "output_shape": list(y.shape),
            "max_abs_output": float(np.max(np.abs(y))),
            "output_spread": export_models.output_spread(y),
        }
        print(f"export_batches: {name} batch {batch}: {'written' if wrote else 'already there'}, "
              f"{time.time() - started:.1f} s", flush=True)
    manifest = os.path.join(fixtures_dir, f"batches-b{batch}.json")
    if not os.path.exists(manifest):
        fd, temp = tempfile.mkstemp(dir=fixtures_dir, prefix=".partial-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"batch": batch, "models": summary}, f, indent=2)
            f.write("\n")
        os.chmod(temp, 0o644)
        os.replace(temp, manifest)
    open(os.path.join(fixtures_dir, f".complete-b{batch}"), "a").close()


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    fixtures_dir = argv[1]
    if not os.path.isfile(os.path.join(fixtures_dir, ".complete")):
        print(f"export_batches: {fixtures_dir} holds no complete fixtures (no .complete); run export_models.py "
              f"first", file=sys.stderr)
        return 2
    try:
        batches = [int(b) for b in argv[2:]]
    except ValueError:
        print(f"export_batches: batch sizes must be integers, got {argv[2:]}", file=sys.stderr)
        return 2
    if any(b < 1 for b in batches):
        print(f"export_batches: batch sizes must be at least 1, got {batches}", file=sys.stderr)
        return 2
    with open(os.path.join(fixtures_dir, "manifest.json")) as f:
        names = [m["name"] for m in json.load(f)["models"]]
    for batch in batches:
        if os.path.isfile(os.path.join(fixtures_dir, f".complete-b{batch}")):
            print(f"export_batches: batch {batch} already complete in {fixtures_dir}", flush=True)
            continue
        add_batch(fixtures_dir, names, batch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
