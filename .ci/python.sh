#!/usr/bin/env bash
# The Python packages the tests check our model files with (the real loaders, not our own reader):
# safetensors and numpy, and Hugging Face transformers with JAX/Flax (FlaxGPT2LMHeadModel reads the
# same PyTorch-layout model.safetensors GPT2LMHeadModel does; torch's CPU wheel is not on PyPI, and
# PyPI's torch pulls 2.5 GB of CUDA), pinned, in a virtual environment under
# ${XDG_CACHE_HOME:-~/.cache}/pipetrain. About 900 MB installed; transformers 4.x is the last line with Flax.
# Idempotent; prints the venv's python on stdout.
set -euo pipefail
venv="${XDG_CACHE_HOME:-$HOME/.cache}/pipetrain/python-venv"
requirements="numpy==2.4.6 safetensors==0.8.0 transformers==4.57.6 flax==0.12.8 jax==0.10.2 jaxlib==0.10.2"
stamp="$venv/.installed"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  python3 -m venv "$venv" >&2
  # shellcheck disable=SC2086 # the list is split on purpose
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements >&2
  echo "$requirements" > "$stamp"
fi
echo "$venv/bin/python"
