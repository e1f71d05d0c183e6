# Sourced by the tools/* commands (and by you: `source tools/setup.sh` puts the venv's commands on PATH):
# runs tools/install.sh (creates .venv and installs the project when needed), then changes to the project
# root and puts .venv/bin first on PATH. It changes nothing else in the calling shell, and a failure returns 1
# (it never closes an interactive shell).
if bash "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/install.sh"; then
  cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && export PATH="$PWD/.venv/bin:$PATH"
else
  echo "setup: failed (see above)" >&2; return 1 2>/dev/null || exit 1
fi
