#!/usr/bin/env bash
# Runs on the remote machine from the work tree (see scripts/bench-remote/prepare): kernels and
# the klein transformer split, then the harness at SIZES (default 512) into OUTDIR (default .remote/out).
set -u
export PYTHONUNBUFFERED=1
unset OPENBLAS_CORETYPE
sizes="${1:-512}"; out="${2:-.remote/out}"; mkdir -p "$out"
run="$(pwd)/.remote/run"; mkdir -p "$run/site" "$run/bin" "$run/tok"   # scratch (git-ignored)
python3 -m pip install -q --no-index --no-deps --no-compile --target "$run/site" .remote/diffusers-*.whl && export PYTHONPATH="$run/site"
for f in mflux mflux-bench; do xz -dc ".remote/$f.xz" > "$run/bin/$f"; chmod +x "$run/bin/$f"; done
B="$run/bin/mflux-bench"
# The C kernel checks (AMX paths included where the CPU has them), built with this machine's compiler.
src=Packages/TensorKit/Sources/CTensorKernels ck=Packages/TensorKit/Tests/ckernels
for check in check_paths check_bf16_gemm; do
  cc -O2 -I "$src/include" "$src"/{cpu,dispatch,kernels_scalar,kernels_avx2,kernels_avx512,gemm_bf16,conv_bf16}.c "$ck/$check.c" -lm \
    -o "$run/$check" && "$run/$check" > "$out/$check.log" 2>&1; echo "$check: exit $?"
done
{ $B gemm 2048 5; $B gemm-bf16 2048 5; $B gemm-bf16c 2048 5; $B klein-step; MFLUX_PRECISION=bf16 $B klein-step
  $B vae-ops 1024; MFLUX_PRECISION=bf16 $B vae-ops 1024; MFLUX_PRECISION=bf16 $B klein-single-trace; } 2>&1 | tee "$out/kernels.txt"
if [ "${KERNELS_ONLY:-0}" != 1 ] && [ ! -f .bench/klein-4b-reduced/model_index.json ]; then
  cp .remote/tok/* "$run/tok/" && xz -df "$run/tok/tokenizer.json.xz"
  cks="zimage-reduced klein-4b-reduced"; case "${MODELS:-Z-Image}" in *Z-Image*) ;; *) cks=klein-4b-reduced ;; esac
  for ck in $cks; do
    MFLUX_BENCH_TOKENIZER="$run/tok" PYTHONHASHSEED=0 python3 scripts/reference/make_bench_checkpoint.py "$ck" ".bench/$ck"
  done
fi
tag=$(echo "$sizes" | tr ' ' _)
[ "${KERNELS_ONLY:-0}" = 1 ] && exit 0
python3 scripts/bench_harness.py --mflux "$run/bin/mflux" --bench "$B" --sizes "$sizes" --steps 2 ${MODELS:+--models "$MODELS"} \
  --out "$out/Performance-$tag.md" --command "scripts/bench-remote/run-there.sh \"$sizes\"" 2>&1 | tee "$out/harness-$tag.log"
