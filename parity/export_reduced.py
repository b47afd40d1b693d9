#!/usr/bin/python3
"""Exports the other variants of the families at a reduced resolution, with inputs and PyTorch's
outputs, for Kiln's parity tests: ResNet-18 and -34, VGG-11, -13 and -19 with and without
batch-norm, EfficientNet-B1 to B3.

Usage: /usr/bin/python3 parity/export_reduced.py OUTPUT_DIR [MODEL ...]

The same files as export_models.py writes for the six networks (whose helpers it uses), under
OUTPUT_DIR/<model>/, at RESOLUTION x RESOLUTION and batches 1 and 2, and OUTPUT_DIR/manifest.json:
  default.onnx     the eval() export, batch-norms folded
  keep_bn.onnx     the export that keeps them, initializers named by state_dict keys (not for
                   the VGGs, whose builder takes 224x224 only: nothing would read it)
  input_b<N>.npy   a seeded float32 input
  output_b<N>.npy  PyTorch's float64 output for it, stored as float32
scripts/prepare-test-fixtures.sh runs it into the subfolder `reduced` of the parity fixtures.

Weights as export_models.py draws them, but for EfficientNet's squeeze-excitation gates, which
start nearer open here (see open_squeeze_excitation_gates): otherwise these logits hardly depend
on the input.

Why a reduced resolution: these networks add no operator to the six, only other depths, widths
and stage counts, so what must be checked is their structure, and 64x64 checks that at a few
percent of the work of their own resolutions (the suite runs each on every backend).

The VGGs: torchvision's AdaptiveAvgPool2d((7, 7)) turns the 2x2 feature map of a 64x64 input into
7x7, which PyTorch cannot export (an adaptive pool exports only where the output size divides the
input's). The pool is linear, and so is the fully connected layer after it, so the export holds
the same function without it: the first layer's weights multiplied by the pool's matrix, 2048
inputs instead of 25,088 (100 MB smaller per file). The outputs are those of the exported form,
checked against the unmodified model (both in float64) to within the float32 rounding of the
folded weights.

Needs Debian's python3-torch (1.13), python3-torchvision, python3-onnx and python3-numpy.
"""

import os
import sys

import torch
import torchvision
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ in the repository
import export_models  # noqa: E402 (after the line above)

RESOLUTION = 64
BATCHES = (1, 2)
# Input streams apart from export_models.py's (its models are numbered from 0).
FIRST_INPUT_INDEX = 100

# Name (as Kiln's model zoo spells it), constructor, seed of its weights.
MODELS = {
    "resnet18": (torchvision.models.resnet18, 18),
    "resnet34": (torchvision.models.resnet34, 34),
    "vgg11": (torchvision.models.vgg11, 11),
    "vgg11_bn": (torchvision.models.vgg11_bn, 111),
    "vgg13": (torchvision.models.vgg13, 13),
    "vgg13_bn": (torchvision.models.vgg13_bn, 113),
    "vgg19": (torchvision.models.vgg19, 19),
    "vgg19_bn": (torchvision.models.vgg19_bn, 119),
    "efficientnet_b1": (torchvision.models.efficientnet_b1, 201),
    "efficientnet_b2": (torchvision.models.efficientnet_b2, 202),
    "efficientnet_b3": (torchvision.models.efficientnet_b3, 203),
}


# Added to the bias of each squeeze-excitation's second convolution: its gate starts near
# sigmoid(2) = 0.88 instead of 0.5 (see open_squeeze_excitation_gates).
SQUEEZE_EXCITATION_GATE_BIAS = 2.0


def build_model(name):
    constructor, seed = MODELS[name]
    torch.manual_seed(seed)
    model = constructor()
    export_models.randomize_weights(model, seed)
    open_squeeze_excitation_gates(model)
    return model.eval()


def open_squeeze_excitation_gates(model):
    """Shifts every squeeze-excitation gate towards open, so that the output depends on the input.

    With export_models.py's weights, EfficientNet-B1 to B3 at 64x64 multiply every block by a gate
    near 0.5, and the input all but vanishes from the logits: the two images of a batch gave
    logits 0.5% apart, and a 1% error in one convolution's weights moved them by 6e-7 to 2e-4 of
    their largest value, mostly under the tests' 1e-4. With the gates near 0.88 (still input-
    dependent) the images differ by 66-75% and the same error moves them by 5e-4 to 3e-2, and an
    error in a squeeze-excitation's own weights by 2e-5 to 2e-3. (EfficientNet-B0 at 224x224, in
    export_models.py, does without: 3.8% and about 1e-3.)
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torchvision.ops.SqueezeExcitation):
                module.fc2.bias.add_(SQUEEZE_EXCITATION_GATE_BIAS)


class VggWithoutAdaptivePool(nn.Module):
    """A torchvision VGG at a fixed input resolution, its adaptive pool folded into the first linear layer.

    Module names stay torchvision's: features.*, classifier.0 (the folded layer), .3 and .6.
    """

    def __init__(self, vgg, resolution):
        super().__init__()
        self.features = vgg.features
        with torch.no_grad():
            feature_map = vgg.features(torch.zeros(1, 3, resolution, resolution)).shape[2:]
            first = vgg.classifier[0]
            weight = fold_adaptive_pool(first.weight, vgg.avgpool.output_size, feature_map)
            folded = nn.Linear(weight.shape[1], first.out_features)
            folded.weight.copy_(weight)
            folded.bias.copy_(first.bias)
        self.classifier = nn.Sequential(folded, *vgg.classifier[1:])

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def fold_adaptive_pool(weight, pool_size, feature_map):
    """weight [out, C * pool cells] times the pool's matrix: [out, C * feature-map cells], in float64, then float32.

    The pool's matrix is found by pooling each cell's indicator image, so it is PyTorch's own
    choice of bins, not a formula restated here.
    """
    cells = feature_map.numel()
    indicators = torch.eye(cells, dtype=torch.float64).reshape(cells, 1, *feature_map)
    pool = nn.functional.adaptive_avg_pool2d(indicators, pool_size).reshape(cells, -1)  # [cells, pool cells]
    out_features = weight.shape[0]
    channels = weight.shape[1] // pool.shape[1]
    per_channel = weight.double().reshape(out_features, channels, pool.shape[1])
    return (per_channel @ pool.T).reshape(out_features, channels * cells).float()


def export(name, out_dir):
    model = build_model(name)
    input_index = FIRST_INPUT_INDEX + list(MODELS).index(name)
    if isinstance(model, torchvision.models.VGG):
        exported = VggWithoutAdaptivePool(model, RESOLUTION).eval()
        return export_models.export_network(name, model, input_index, out_dir, RESOLUTION, BATCHES, exported,
                                            export_names=("default",))
    return export_models.export_network(name, model, input_index, out_dir, RESOLUTION, BATCHES)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    names = argv[2:] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"export_reduced: unknown model(s) {unknown}; known: {list(MODELS)}", file=sys.stderr)
        return 2
    os.makedirs(out_dir, exist_ok=True)
    models = [export(name, out_dir) for name in names]
    export_models.write_manifest(out_dir, models, script=__file__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
