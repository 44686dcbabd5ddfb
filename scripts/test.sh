#!/usr/bin/env bash
# Installs keras_gmlp with all three backends, then runs the test suite under
# each of KERAS_BACKEND=jax, tensorflow and torch, the three at once: the
# suite keeps about 1.3 of 2 cores busy (much of it compiles on one thread),
# so side by side they finish sooner than in turn. Each backend's output is
# printed when it ends. Exits non-zero if any backend fails. Extra arguments
# go to pytest, e.g. `bash scripts/test.sh -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2

# The torch pin comes first: an unpinned torch pulls a multi-GB CUDA build.
pip install --quiet torch==2.13.0 && pip install --quiet -e ".[all,dev]" || exit 1

logs=$(mktemp -d)
declare -A runs
for backend in jax tensorflow torch; do
  KERAS_BACKEND="${backend}" python -m pytest "$@" >"${logs}/${backend}.log" 2>&1 &
  runs[${backend}]=$!
done
failed=()
for backend in jax tensorflow torch; do
  wait "${runs[${backend}]}" || failed+=("${backend}")
  echo "=== KERAS_BACKEND=${backend} ==="
  cat "${logs}/${backend}.log"
done
rm -r "${logs}"
if ((${#failed[@]})); then
  echo "Tests FAILED on: ${failed[*]}"
  exit 1
fi
echo "Tests passed on jax, tensorflow and torch."
