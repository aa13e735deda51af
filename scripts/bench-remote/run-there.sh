#!/usr/bin/env bash
# Runs on the remote machine from the work tree (see scripts/bench-remote/prepare): kernels and
# the klein transformer split, then the harness at SIZES (default 512) into OUTDIR (default .remote/out).
set -u
export PYTHONUNBUFFERED=1
unset OPENBLAS_CORETYPE
sizes="${1:-512}"; out="${2:-.remote/out}"; mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .remote/diffusers-*.whl && export PYTHONPATH=/tmp/site
mkdir -p /tmp/b && for f in mflux mflux-bench; do xz -dc ".remote/$f.xz" > "/tmp/b/$f"; chmod +x "/tmp/b/$f"; done
B=/tmp/b/mflux-bench
{ $B gemm 2048 5; $B gemm-bf16 2048 5; $B gemm-bf16c 2048 5; $B klein-step; MFLUX_PRECISION=bf16 $B klein-step; } 2>&1 | tee "$out/kernels.txt"
if [ ! -f .bench/klein-4b-reduced/model_index.json ]; then
  mkdir -p /tmp/tok && cp .remote/tok/* /tmp/tok/ && xz -df /tmp/tok/tokenizer.json.xz
  for ck in zimage-reduced klein-4b-reduced; do
    MFLUX_BENCH_TOKENIZER=/tmp/tok PYTHONHASHSEED=0 python3 scripts/reference/make_bench_checkpoint.py "$ck" ".bench/$ck"
  done
fi
tag=$(echo "$sizes" | tr ' ' _)
python3 scripts/bench_harness.py --mflux /tmp/b/mflux --bench "$B" --sizes "$sizes" --steps 2 \
  --out "$out/Performance-$tag.md" --command "scripts/bench-remote/run-there.sh \"$sizes\"" 2>&1 | tee "$out/harness-$tag.log"
