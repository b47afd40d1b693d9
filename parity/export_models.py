#!/usr/bin/python3
"""Exports the six CNN families from PyTorch to ONNX, with inputs and PyTorch's outputs, for
Kiln's parity tests.

Usage: /usr/bin/python3 parity/export_models.py OUTPUT_DIR [MODEL ...]

For each model it writes, under OUTPUT_DIR/<model>/:
  default.onnx   the ordinary eval() export: PyTorch folds every batch-norm into its conv
  keep_bn.onnx   an export that keeps the BatchNormalization nodes, its initializers named by
                 the model's state_dict keys
  input_b<N>.npy   a seeded float32 input, batch N in 1 and 3
  output_b<N>.npy  PyTorch's output for it, computed in float64 and stored as float32
and OUTPUT_DIR/manifest.json describing all of it. Weights are seeded random values (the
tests need no download): He-normal convolutions and linear layers, small random biases and
batch-norms with random statistics, so that folding and the batch-norm formula really matter.

export_reduced.py writes the other variants of the families (ResNet-18/34, the other VGGs,
EfficientNet-B1 to B3) at a reduced resolution with this file's helpers, and export_batches.py
adds batch sizes; scripts/prepare-test-fixtures.sh runs them and keys the folder by all three.

Needs Debian's python3-torch (1.13), python3-torchvision, python3-onnx and python3-numpy.
"""

import functools
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torchvision
from torch import nn

OPSET = 13
BATCHES = (1, 3)
RESOLUTION = 224
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
INPUT_SEED = 20240601


# --- MobileNet v1 ---------------------------------------------------------------------------

def conv_bn_relu(in_channels, out_channels, kernel, stride, groups=1):
    """A convolution without bias, batch-norm and ReLU, as three modules."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class MobileNetV1(nn.Module):
    """MobileNet v1 (Howard et al. 2017, Table 1), alpha 1.0, 224x224.

    Module names match Kiln's builder (dev.kiln.models.MobileNetV1): features.0 is the stem
    (conv .0, bn .1, relu .2); block features.i has its depthwise conv, bn, relu at .0 .1 .2 and
    its pointwise ones at .3 .4 .5; the classifier is fc.
    """

    # Output channels and stride of the 13 depthwise-separable blocks.
    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, num_classes=1000):
        super().__init__()
        layers = [nn.Sequential(*conv_bn_relu(3, 32, kernel=3, stride=2))]
        channels = 32
        for out_channels, stride in self.BLOCKS:
            depthwise = conv_bn_relu(channels, channels, kernel=3, stride=stride, groups=channels)
            pointwise = conv_bn_relu(channels, out_channels, kernel=1, stride=1)
            layers.append(nn.Sequential(*depthwise, *pointwise))
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


# --- the models -----------------------------------------------------------------------------

# Name (as Kiln's model zoo spells it), constructor, seed of its weights.
MODELS = {
    "vgg16": (torchvision.models.vgg16, 16),
    "googlenet": (functools.partial(torchvision.models.googlenet, aux_logits=False, transform_input=False,
                                    init_weights=False), 22),
    "resnet50": (torchvision.models.resnet50, 50),
    "mobilenet_v1": (MobileNetV1, 101),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, 102),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, 200),
}


def randomize_weights(model, seed):
    """Seeded weights that keep activations at a useful scale through the whole network.

    He-normal (fan-in) keeps the second moment of activations roughly constant under ReLU,
    so that the output still depends on the input after fifty layers; torchvision's own
    initialisation of GoogLeNet (init_weights=False) would let it fade. Biases get small
    random values because the exporter drops all-zero ones, and batch-norms get random
    statistics, scales and shifts so that folding them is not a no-op.
    """
    torch.manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.uniform_(module.bias, -0.1, 0.1)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.uniform_(module.weight, 0.5, 1.5)
                nn.init.uniform_(module.bias, -0.1, 0.1)
                nn.init.normal_(module.running_mean, 0.0, 0.1)
                nn.init.uniform_(module.running_var, 0.5, 2.0)
        for batch_norm in residual_branch_ends(model):
            nn.init.uniform_(batch_norm.weight, 0.1, 0.5)


def residual_branch_ends(model):
    """The batch-norm that closes each residual branch (the one whose output is added to a shortcut).

    They get smaller scales: each Add otherwise doubles the variance, 2^16 over ResNet-50's
    blocks, until the logits no longer depend on the input. torchvision's zero_init_residual
    does the same for training; Kiln's builders draw these scales from the same range.
    """
    for module in model.modules():
        if isinstance(module, torchvision.models.resnet.Bottleneck):
            yield module.bn3
        elif isinstance(module, torchvision.models.resnet.BasicBlock):  # ResNet-18 and -34 (export_reduced.py)
            yield module.bn2
        elif getattr(module, "use_res_connect", False):  # MobileNet v2 and EfficientNet blocks
            yield [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)][-1]


def build_model(name):
    constructor, seed = MODELS[name]
    torch.manual_seed(seed)
    model = constructor()
    randomize_weights(model, seed)
    return model.eval()


# --- exports --------------------------------------------------------------------------------

def export_onnx(model, path, keep_batch_norm, resolution=RESOLUTION):
    """Exports with a symbolic batch axis on the input and the output."""
    options = {}
    if keep_batch_norm:
        # PRESERVE on an eval() model keeps BatchNormalization (in inference mode); without
        # constant folding the initializers keep their state_dict names.
        options = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False}
    example = torch.zeros(1, 3, resolution, resolution)
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=[INPUT_NAME],
                      output_names=[OUTPUT_NAME],
                      dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}, **options)


def check_export(path, keep_batch_norm, state_dict_names, batch_norm_modules):
    """Checks the file and the facts the tests rely on; returns a summary for the manifest."""
    onnx.checker.check_model(path)
    model = onnx.load(path)
    op_counts = {}
    for node in model.graph.node:
        op_counts[node.op_type] = op_counts.get(node.op_type, 0) + 1
    batch_norms = op_counts.get("BatchNormalization", 0)
    expected = batch_norm_modules if keep_batch_norm else 0
    if batch_norms != expected:
        raise RuntimeError(f"{path}: {batch_norms} BatchNormalization nodes, expected {expected} "
                           f"(the model has {batch_norm_modules} batch-norms)")
    initializers = [t.name for t in model.graph.initializer]
    named_by_state_dict = sorted(set(initializers) & state_dict_names)
    if keep_batch_norm:
        missing = sorted(state_dict_names - set(initializers))
        if missing:
            raise RuntimeError(f"{path}: state_dict tensors not among the initializers: {missing[:5]}")
    return {
        "bytes": os.path.getsize(path),
        "sha256": file_sha256(path),
        "op_counts": dict(sorted(op_counts.items())),
        "initializers": len(initializers),
        "initializers_named_by_state_dict": len(named_by_state_dict),
    }


def state_dict_names(model):
    """The learned tensors and batch-norm statistics, as an export would carry them."""
    return {name for name in model.state_dict() if not name.endswith("num_batches_tracked")}


# --- inputs and reference outputs -----------------------------------------------------------

def make_input(model_index, batch, resolution=RESOLUTION):
    """Seeded images that differ in their global statistics, not only in their noise.

    Global average pooling all but erases white noise, so every noise image would give
    nearly the same logits; a per-image colour offset and contrast and a smooth pattern
    make the outputs of the images in a batch clearly differ.
    """
    rng = np.random.default_rng([INPUT_SEED, model_index, batch])
    offset = rng.normal(0.0, 0.5, (batch, 3, 1, 1))
    contrast = rng.uniform(0.5, 1.5, (batch, 3, 1, 1))
    coarse = torch.from_numpy(rng.standard_normal((batch, 3, 8, 8)))
    smooth = torch.nn.functional.interpolate(coarse, size=(resolution, resolution), mode="bilinear",
                                             align_corners=False).numpy()
    noise = rng.standard_normal((batch, 3, resolution, resolution))
    return (offset + contrast * (smooth + 0.5 * noise)).astype(np.float32)


def reference_output(model64, x):
    """PyTorch's float64 forward: the ground truth (a float32 forward is off by ~1e-5)."""
    with torch.no_grad():
        y = model64(torch.from_numpy(x).double())
    return np.ascontiguousarray(y.numpy().astype(np.float32))


def output_spread(y):
    """How much the output depends on the input: max |y[i] - y[0]| / max |y| over the batch.

    Near zero would mean the weights wash the input out and a parity test would prove little.
    """
    return float(np.max(np.abs(y - y[0:1])) / np.max(np.abs(y)))


def write_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


# --- one model, all models ------------------------------------------------------------------

def export_model(name, model_index, out_dir):
    return export_network(name, build_model(name), model_index, out_dir, RESOLUTION, BATCHES)


def export_network(name, model, model_index, out_dir, resolution, batches, exported=None,
                   export_names=("default", "keep_bn")):
    """Writes a model's exports, inputs and float64 outputs under out_dir/name; returns its manifest entry.

    exported, if given, is the module written as ONNX in place of model (export_reduced.py's
    VGGs: the same function in a form ONNX can express). The outputs are then the exported
    module's, whose float32 weights are what the file holds, after a check that they are the
    model's to within the rounding of those weights.
    """
    started = time.time()
    model_dir = os.path.join(out_dir, name)
    os.makedirs(model_dir, exist_ok=True)
    exported = model if exported is None else exported
    names = state_dict_names(exported)
    batch_norm_modules = sum(1 for m in exported.modules() if isinstance(m, nn.BatchNorm2d))

    exports = {}
    for export_name in export_names:
        keep_batch_norm = export_name == "keep_bn"
        file = f"{export_name}.onnx"
        export_onnx(exported, os.path.join(model_dir, file), keep_batch_norm, resolution)
        summary = check_export(os.path.join(model_dir, file), keep_batch_norm, names, batch_norm_modules)
        exports[export_name] = {"file": f"{name}/{file}", "keeps_batch_norm": keep_batch_norm, **summary}

    model64 = model.double()
    exported64 = exported.double()
    batches_written = {}
    for batch in batches:
        x = make_input(model_index, batch, resolution)
        y = reference_output(exported64, x)
        if exported64 is not model64:
            check_same_function(name, reference_output(model64, x), y)
        write_npy(os.path.join(model_dir, f"input_b{batch}.npy"), x)
        write_npy(os.path.join(model_dir, f"output_b{batch}.npy"), y)
        batches_written[str(batch)] = {
            "input": f"{name}/input_b{batch}.npy",
            "output": f"{name}/output_b{batch}.npy",
            "output_shape": list(y.shape),
            "max_abs_output": float(np.max(np.abs(y))),
        }
        if batch > 1:
            batches_written[str(batch)]["output_spread"] = output_spread(y)
    print(f"export_models: {name}: {time.time() - started:.1f} s", flush=True)
    return {
        "name": name,
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "input_shape": [-1, 3, resolution, resolution],
        "exports": exports,
        "batches": batches_written,
    }


# The same function in another form, both run in float64, differs by the rounding of the other
# form's weights to float32 (about 6e-8 each): far below the tests' 1e-4, far above float64's.
SAME_FUNCTION_TOLERANCE = 1e-6


def check_same_function(name, expected, actual):
    difference = float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))
    if difference > SAME_FUNCTION_TOLERANCE:
        raise RuntimeError(f"{name}: the exported form's float64 output differs from the model's by {difference:.2e}"
                           f" of its largest value")


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out_dir, models, script=__file__):
    manifest = {
        "opset": OPSET,
        "script_sha256": file_sha256(os.path.abspath(script)),
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "onnx": onnx.__version__,
            "numpy": np.__version__,
        },
        "models": models,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    names = argv[2:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"export_models: unknown model(s) {unknown}; known: {list(MODELS)}", file=sys.stderr)
        return 2
    os.makedirs(out_dir, exist_ok=True)
    models = [export_model(name, list(MODELS).index(name), out_dir) for name in names]
    write_manifest(out_dir, models)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
