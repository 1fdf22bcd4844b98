#!/usr/bin/env bash
# OpenBLAS core types A/B on the plain ViT-B/16 forward (BackboneBenchmark against onnxruntime), alternating so that
# a slow spell of a shared machine hits every type: Haswell (AVX2), Cooperlake, SkylakeX (AVX-512).
# Run from the repository root after building the jar:  bash tools/bench/openblas_core_types.sh [batch] [steps]
set -euo pipefail
batch="${1:-8}"
steps="${2:-3}"
jar="sa2vp-examples/target/sa2vp.jar"
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4
for core in Haswell Cooperlake SkylakeX SkylakeX Cooperlake Haswell; do
  line=$(OPENBLAS_CORETYPE="$core" java -Xss4m -cp "$jar" org.sa2vp.examples.bench.BackboneBenchmark \
    --batch "$batch" --steps "$steps" 2>/dev/null | grep '"engine":"dl4j"')
  echo "$core $line"
done
