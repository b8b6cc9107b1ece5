#!/usr/bin/env bash
# Installs everything nax needs to build and test, from Debian 12's packages only. Idempotent:
# packages already present are left as they are. Run as root (or with sudo).
#   tools/setup.sh            build + test dependencies, and python3-matplotlib for the PNG plots
#                             of `nax study` reports (tools/plot_study.py)
#   tools/setup.sh --python   also Python torch/torchvision/onnx, used only to regenerate test
#                             fixtures (~900 MB)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libsystemc-dev libeigen3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev catch2 libcli11-dev
  nlohmann-json3-dev libonnx-dev libprotobuf-dev protobuf-compiler libsqlite3-dev
  libxgboost-dev  # trains the latency estimator's tree models (nax fit)
  libtorch-dev    # the accuracy side: trainable networks, zero-shot proxies, short training
  python3-matplotlib  # the plots of `nax study` reports (tools/plot_study.py)
  pybind11-dev python3-dev  # the `nax` Python module (tools/python)
  libopenmpi-dev openmpi-bin  # `nax sweep --mpi` (links libmpi) and its test under mpirun
)
if [[ "${1:-}" == "--python" ]]; then
  packages+=(python3-torch python3-torchvision python3-onnx)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
