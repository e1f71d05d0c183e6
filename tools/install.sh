#!/usr/bin/env bash
# Run by tools/setup.sh (never sourced): creates .venv if missing and installs the project with its dev extras
# when settings.ini, setup.py or pyproject.toml changed since the last install. Any failure stops it (exit 1)
# before the install is recorded, so the next run tries again.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
PYTHON=${PYTHON:-python3}
# torch/torchvision releases to install; the default lies on this project's CI disk. On a GPU machine
# you may set e.g. CIFAR_RESNET_TORCH="torch torchvision" to take the newest release for your CUDA.
CIFAR_RESNET_TORCH=${CIFAR_RESNET_TORCH:-"torch==2.14.1 torchvision==0.29.1"}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  { echo "cifar_resnet needs Python 3.10 or newer; found $("$PYTHON" --version 2>&1). Set PYTHON=/path/to/python3." >&2; exit 1; }
if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then   # missing, or half made by a failed earlier attempt
  echo "setup: creating .venv"; rm -rf .venv
  "$PYTHON" -m venv .venv || { rm -rf .venv; echo "setup: '$PYTHON -m venv' failed: on Debian/Ubuntu install python3-venv." >&2; exit 1; }
fi
stamp=.venv/.cifar_resnet-installed
want="$(cat settings.ini setup.py pyproject.toml | sha256sum | cut -d' ' -f1) $CIFAR_RESNET_TORCH"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -f "$stamp"
  echo "setup: installing $CIFAR_RESNET_TORCH and cifar_resnet[dev] into .venv (a few minutes, quietly)"
  .venv/bin/python -m pip install -q --disable-pip-version-check $CIFAR_RESNET_TORCH 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stamp"
fi
