#!/usr/bin/env bash
# Installs keras_gmlp with all three backends, then runs the test suite once
# under each of KERAS_BACKEND=jax, tensorflow and torch. Exits non-zero if any
# backend fails. Extra arguments go to pytest, e.g. `bash scripts/test.sh -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2

# The torch pin comes first: an unpinned torch pulls a multi-GB CUDA build.
pip install --quiet torch==2.13.0 && pip install --quiet -e ".[all,dev]" || exit 1

failed=()
for backend in jax tensorflow torch; do
  echo "=== KERAS_BACKEND=${backend} ==="
  KERAS_BACKEND="${backend}" python -m pytest "$@" || failed+=("${backend}")
done
if ((${#failed[@]})); then
  echo "Tests FAILED on: ${failed[*]}"
  exit 1
fi
echo "Tests passed on jax, tensorflow and torch."
