#!/usr/bin/env bash
# Installs keras_gmlp with all three backends, then runs the test suite under
# each of KERAS_BACKEND=jax, tensorflow and torch, the three at once, each in
# two pytest-xdist workers that take whole test files as they come free: one
# process a backend left torch's done after 12 minutes, then JAX alone for the
# last 5 of 29-31, a core idle (1,657 s against 1,747-1,855 in one hour).
# Each backend's output is printed when it ends. Exits non-zero if any
# backend fails. Extra arguments go to pytest, e.g. `bash scripts/test.sh -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
# Three suites share the cores, so each computes on one thread: threads that
# wait for a core another suite holds only spin. Model, layer and MLM tests
# side by side on the 2-core Intel Xeon: 226 s against 247 s with each
# library's own thread pools. (TensorFlow keeps its inter-op pool, where
# tf.distribute's replicas wait on each other.)
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export TF_NUM_INTRAOP_THREADS=1
# XLA stops reading flags at the first word that is not one: only flags here.
# (tests/conftest.py adds the ones that make XLA compile the tests faster.)
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false"

# The torch pin comes first: an unpinned torch pulls a multi-GB CUDA build.
pip install --quiet torch==2.13.0 && pip install --quiet -e ".[all,dev]" || exit 1

logs=$(mktemp -d)
declare -A runs
for backend in jax tensorflow torch; do
  KERAS_BACKEND="${backend}" python -m pytest -n 2 --dist loadfile "$@" >"${logs}/${backend}.log" 2>&1 &
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
