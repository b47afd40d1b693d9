#!/usr/bin/env bash
# Prepares what the test suite needs outside Maven: Debian's PyTorch, ONNX and ONNX test data
# packages, an OpenCL runtime for the opencl backend (PoCL, a CPU driver, behind the ICD
# loader), a C compiler for the onednn backend's own kernels (backend-onednn/src/main/c), headless
# Chromium and its driver for the HTML report tests (cli's HtmlReportsInBrowserTest), and the
# PyTorch parity fixtures (ONNX exports, inputs and PyTorch's outputs).
#
# The fixtures are generated once and cached outside the repository, in
#   ${KILN_FIXTURES:-$HOME/.cache/kiln/fixtures}/parity-<key>/
# where the key is the first 16 hex digits of the SHA-256 of the key text: a line
# `<sha256>  parity/<file>.py` for every Python file in parity/ (the scripts that write fixtures
# and the helpers they import), sorted by name, then a line `<package> <version>` for each of
# VERSIONED_PACKAGES. So a changed script, or another torch, gets a fresh folder, and an unchanged
# one is never regenerated. The folder holds its key text as `fixture-key.txt`; the parity tests
# (tests/.../parity/ParityFixtures.java) compute the script lines themselves, take the versions
# from that file (they cannot ask Python) and check that its hash is the folder's name.
# `scripts/prepare-test-fixtures.sh --print-key` prints the folder's name and the key text.
# A folder counts only once it holds `.complete`: the script writes into a temporary folder and
# renames it, so an interrupted run leaves no half-written fixtures behind.
#
# Inside: the six networks by parity/export_models.py, and the other variants at a reduced
# resolution by parity/export_reduced.py, in the subfolder `reduced`. Batch sizes beyond
# export_models.py's own (1 and 3) are added to the folder by parity/export_batches.py, which
# only adds files (the folder may be shared by other checkouts) and marks each finished batch
# with `.complete-b<N>`: a batch size added to EXTRA_BATCHES regenerates nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PYTHON=/usr/bin/python3 # Debian's: another python3 earlier on the PATH may lack torch
readonly PACKAGES=(python3-torch python3-torchvision python3-onnx python3-numpy libonnx-testdata
    ocl-icd-libopencl1 pocl-opencl-icd gcc libc6-dev chromium chromium-driver)
readonly EXPORT_SCRIPT=parity/export_models.py
readonly REDUCED_SCRIPT=parity/export_reduced.py
readonly REDUCED_FOLDER=reduced
readonly BATCH_SCRIPT=parity/export_batches.py
readonly KEY_FILE=fixture-key.txt
# What the fixtures depend on besides the scripts: PyTorch computes the outputs and writes the
# ONNX files (with torchvision's models and the onnx package), numpy draws the inputs.
readonly VERSIONED_PACKAGES=(torch torchvision onnx numpy)
readonly EXTRA_BATCHES=(4) # the parity tests run the real backends at batch 4

step() {
    echo "prepare-test-fixtures: $*" >&2
}

missing_packages() {
    local package
    for package in "${PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]]; then
            echo "$package"
        fi
    done
}

install_packages() {
    if ! command -v dpkg-query >/dev/null; then
        step "not a Debian-like system: make sure $PYTHON has torch 1.13, torchvision, onnx and numpy, and that an OpenCL driver is installed"
        return
    fi
    local missing
    missing=$(missing_packages | paste -sd ' ')
    if [[ -z "$missing" ]]; then
        step "Debian packages present: ${PACKAGES[*]}"
        return
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        step "missing Debian packages: $missing; install them as root (apt-get install -y $missing) and rerun"
        exit 1
    fi
    step "installing missing Debian packages: $missing"
    apt-get update -qq
    # shellcheck disable=SC2086 # $missing is a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# The key text (see the header); the parity tests compute its script lines the same way.
key_text() {
    local script
    while IFS= read -r script; do
        sha256sum "$script"
    done < <(printf '%s\n' parity/*.py | LC_ALL=C sort)
    # importlib.metadata reads the installed versions without importing torch, which takes seconds.
    "$PYTHON" -c 'import importlib.metadata as m, sys
for package in sys.argv[1:]:
    try:
        print(package, m.version(package))
    except m.PackageNotFoundError:
        print(package, "absent")' "${VERSIONED_PACKAGES[@]}"
}

fixtures_folder() {
    echo "${KILN_FIXTURES:-$HOME/.cache/kiln/fixtures}/parity-$(printf '%s\n' "$KEY_TEXT" | sha256sum | cut -c1-16)"
}

generate_fixtures() {
    local root target work
    root=${KILN_FIXTURES:-$HOME/.cache/kiln/fixtures}
    target=$(fixtures_folder)
    if [[ -f "$target/.complete" ]]; then
        step "parity fixtures up to date in $target"
        return
    fi
    mkdir -p "$root"
    work=$(mktemp -d "$root/.$(basename "$target").partial.XXXXXX")
    chmod 755 "$work" # mktemp makes it private; the fixtures are not secret
    trap 'rm -rf "$work"' EXIT
    step "generating parity fixtures with $EXPORT_SCRIPT and $REDUCED_SCRIPT into $target (a few minutes)"
    "$PYTHON" "$EXPORT_SCRIPT" "$work"
    "$PYTHON" "$REDUCED_SCRIPT" "$work/$REDUCED_FOLDER"
    printf '%s\n' "$KEY_TEXT" >"$work/$KEY_FILE"
    touch "$work/.complete"
    rm -rf "$target" # an incomplete folder, if any (a complete one returned above)
    if ! mv -T "$work" "$target" 2>/dev/null; then
        if [[ -f "$target/.complete" ]]; then
            step "another run finished the same fixtures first; keeping its folder"
            return
        fi
        step "could not move $work to $target"
        exit 1
    fi
    trap - EXIT
    step "parity fixtures ready in $target ($(du -sh "$target" | cut -f1))"
    prune_other_versions "$root" "$target"
}

# Fixtures of earlier versions of the scripts or packages are 3 GB each and never read again.
prune_other_versions() {
    local old
    for old in "$1"/parity-*; do
        if [[ -d "$old" && "$old" != "$2" ]]; then
            step "removing fixtures of earlier scripts or packages: $old"
            rm -rf "$old"
        fi
    done
}

add_batches() {
    local target batch missing=()
    target=$(fixtures_folder)
    for batch in "${EXTRA_BATCHES[@]}"; do
        [[ -f "$target/.complete-b$batch" ]] || missing+=("$batch")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        step "parity fixtures at batch ${EXTRA_BATCHES[*]} present"
        return
    fi
    step "adding parity fixtures at batch ${missing[*]} with $BATCH_SCRIPT (about a minute)"
    "$PYTHON" "$BATCH_SCRIPT" "$target" "${missing[@]}"
}

if [[ "${1:-}" == --print-key ]]; then
    KEY_TEXT=$(key_text)
    basename "$(fixtures_folder)"
    printf '%s\n' "$KEY_TEXT"
    exit 0
fi
install_packages
KEY_TEXT=$(key_text)
readonly KEY_TEXT
generate_fixtures
add_batches
