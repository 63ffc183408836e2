#!/usr/bin/env bash
# The Python packages the tests check our model files with (the real loaders, not our own reader):
# safetensors and numpy, pinned, in a virtual environment under ${XDG_CACHE_HOME:-~/.cache}/pipetrain.
# Idempotent; prints the venv's python on stdout.
set -euo pipefail
venv="${XDG_CACHE_HOME:-$HOME/.cache}/pipetrain/python-venv"
requirements="numpy==2.4.6 safetensors==0.8.0"
stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086 # the list is split on purpose
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements >&2
  echo "$requirements" > "$stamp"
fi
echo "$venv/bin/python"
