#!/usr/bin/env python3
"""The driver of scripts/bench: runs mflux-swift and diffusers/torch on the .bench/ checkpoints and
writes the table. Each torch measurement runs in its own process (peak RSS per run)."""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

MODELS = {  # checkpoint, full-depth layer count / reduced layer count (transformer blocks)
    "Z-Image-Turbo": dict(ckpt=".bench/zimage-reduced", full=30 + 2 + 2, reduced=2 + 1 + 1),
    "FLUX.2-klein-4B": dict(ckpt=".bench/klein-4b-reduced", full=5 * 2 + 20, reduced=1 * 2 + 2),  # a double block ~ 2 single
}
PROMPT = "A red fox in the snow at dusk, photograph"
KEEP_MARKER = "<!-- Sections below are measured on other machines and kept by scripts/bench. -->"
TORCH = r'''
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[5]))
from diffusers import DiffusionPipeline
ckpt, size, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dtype = getattr(torch, sys.argv[4]) if sys.argv[4] != "qint8" else torch.float32
t0 = time.perf_counter()
pipe = DiffusionPipeline.from_pretrained(ckpt, torch_dtype=torch.float32 if sys.argv[4] == "qint8" else dtype)
if sys.argv[4] == "qint8":  # torch's dynamic int8 (fbgemm/x86) of every nn.Linear, as -q 8 quantizes them
    import warnings
    warnings.simplefilter("ignore")
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic
    for name in ("transformer", "text_encoder"):
        m = getattr(pipe, name)
        # The timestep embedders read their Linear's weight dtype (a method once quantized): kept float.
        spec = {n: default_dynamic_qconfig for n, mod in m.named_modules()
                if isinstance(mod, torch.nn.Linear) and "t_embedder" not in n and "time_" not in n}
        setattr(pipe, name, quantize_dynamic(m, spec, dtype=torch.qint8))
pipe.set_progress_bar_config(disable=True)
marks = {"steps": []}
pipe.transformer.register_forward_pre_hook(lambda *a: marks["steps"].append(time.perf_counter()))
enc = pipe.encode_prompt
def timed_encode(*a, **k):
    s = time.perf_counter(); r = enc(*a, **k); marks["encode"] = time.perf_counter() - s; return r
pipe.encode_prompt = timed_encode
dec = pipe.vae.decode
def timed_decode(*a, **k):
    s = time.perf_counter(); r = dec(*a, **k); marks["decode"] = time.perf_counter() - s; return r
pipe.vae.decode = timed_decode
with torch.inference_mode():
    pipe(prompt=sys.argv[6], height=size, width=size, num_inference_steps=steps, generator=torch.Generator("cpu").manual_seed(1))
st = marks["steps"]
print(json.dumps({"total": time.perf_counter() - t0, "encode": marks.get("encode"), "decode": marks.get("decode"),
                  "step": (st[-1] - st[0]) / (len(st) - 1) if len(st) > 1 else None}))
'''


# mflux-swift chooses its OpenBLAS kernels itself; a machine-wide OPENBLAS_CORETYPE (set on some
# of these hosts for older numpy builds) would force slower ones on it.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def rss_kib(stderr):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(m.group(1)) if m else None


def run_mflux(mflux, ckpt, size, steps, precision):
    out = os.path.join(tempfile.gettempdir(), f"mflux-bench-{os.getpid()}.png")
    if os.path.exists(out):
        os.remove(out)
    quant = ["--precision", "fp32", "-q", precision[1:]] if precision.startswith("q") else ["--precision", precision]
    r = subprocess.run(["/usr/bin/time", "-v", mflux, "generate", "--model", ckpt, "--prompt", PROMPT, "--seed", "1", "--steps", str(steps),
                        "--width", str(size), "--height", str(size)] + quant + ["--verbose", "--output", out],
                       capture_output=True, text=True, env=CLEAN_ENV)
    if os.path.exists(out):
        os.remove(out)
    if r.returncode != 0:
        raise SystemExit(f"mflux failed: {r.stderr[-2000:]}")
    e = r.stderr
    # Durations as mflux prints them: "9.45 s", "12.3 s", "1 m 05 s", "1 h 02 m".
    dur = r"((?:\d+ h )?(?:\d+ m )?[0-9.]+ [smh]|\d+ h \d+ m|\d+ m \d+ s)"

    def seconds(text):
        total = 0.0
        for value, unit in re.findall(r"([0-9.]+) ([hms])", text):
            total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
        return total

    def num(prefix):
        m = re.search(prefix + " " + dur, e)
        return seconds(m.group(1)) if m else None
    step = re.search(r"loop: \d+ steps in [^,]+, mean ([0-9.]+) s/step", e)
    return {"encode": num("encoded the prompt in"), "step": float(step.group(1)) if step else None,
            "decode": num("decoded the image in"), "total": num("generated 1 image in"), "rss": rss_kib(e)}


def run_torch(python, ckpt, size, steps, dtype, threads):
    r = subprocess.run(["/usr/bin/time", "-v", python, "-c", TORCH, ckpt, str(size), str(steps), dtype, str(threads), PROMPT],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"}
    d = json.loads(r.stdout.strip().splitlines()[-1])
    d["rss"] = rss_kib(r.stderr)
    return d


def gemm_peak(bench, mode):
    r = subprocess.run([bench, mode, "2048", "5"], capture_output=True, text=True, env=CLEAN_ENV)
    m = re.search(r"^gemm n=\d+ best=[0-9.]+s gflops=([0-9.]+)", r.stdout, re.M)
    return float(m.group(1)) if m else None


TEXT_TOKENS = {"Z-Image-Turbo": 32, "FLUX.2-klein-4B": 512}
# Which tokens pass through a weight: the image stream, the text stream, or both (joint blocks).
TEXT_ONLY = ("context_refiner.", "cap_embedder.", "context_embedder.", ".add_q_proj", ".add_k_proj", ".add_v_proj",
             ".to_add_out", ".ff_context.")
IMAGE_ONLY = ("noise_refiner.", "x_embedder.", "transformer_blocks.", "all_final_layer.", "proj_out")


def linear_flops(name, ckpt, size):
    """2 x (weight elements x tokens through it) over the transformer's 2-D weights (from the
    safetensors headers): image-stream weights see the image tokens, text-stream ones the text
    tokens, joint (single / main) blocks both. Attention's own products are left out."""
    import glob
    import struct
    img, txt = (size // 16) ** 2, TEXT_TOKENS[name]
    total = 0
    for path in glob.glob(os.path.join(ckpt, "transformer", "*.safetensors")):
        with open(path, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
        for k, v in header.items():
            if k == "__metadata__" or len(v["shape"]) != 2 or "modulation" in k or "adaLN" in k or "t_embedder" in k \
                    or "time_guidance" in k or "norm_out" in k or "pad_token" in k:
                continue  # per-step vectors, not per token
            t = txt if any(p in k for p in TEXT_ONLY) else img if any(k.startswith(p) or p in k for p in IMAGE_ONLY) \
                and not k.startswith("single_transformer_blocks.") else img + txt
            total += 2 * v["shape"][0] * v["shape"][1] * t
    return total


def fmt(v, unit="s"):
    if v is None:
        return "–"
    return f"{v / 1048576:.2f} GiB" if unit == "rss" else f"{v:.2f} s"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "–"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mflux", required=True); p.add_argument("--bench", required=True)
    p.add_argument("--sizes", default="512 1024"); p.add_argument("--steps", type=int, default=2)
    p.add_argument("--out", required=True); p.add_argument("--command", required=True)
    p.add_argument("--replay", help="rewrite the table from the measurement lines of an earlier run's log")
    p.add_argument("--full", action="store_true", help="also the full-depth Z-Image-Turbo check (.bench/zimage-full, ~20 GB)")
    p.add_argument("--precisions", help="which of fp32 bf16 q8 q4 to run (default: fp32, and bf16 where the CPU has it; "
                   "q8/q4 = mflux -q 8/-q 4 against torch's dynamic int8)")
    p.add_argument("--models", help="comma-separated model names to run (default: all)")
    a = p.parse_args()
    flags = open("/proc/cpuinfo").read()
    bf16 = " avx512_bf16 " in flags.replace("\n", " ")
    model_name = re.search(r"model name\s*:\s*(.*)", flags).group(1).strip()
    threads = os.cpu_count()
    peaks = {"fp32": gemm_peak(a.bench, "gemm"), "bf16": gemm_peak(a.bench, "gemm-bf16c") if bf16 else None}
    precisions = a.precisions.split() if a.precisions else ["fp32"] + (["bf16"] if bf16 else [])
    if not bf16:
        precisions = [p for p in precisions if p != "bf16"]
    lines = []
    if a.replay:
        import ast
        for line in open(a.replay):
            m = re.match(r"^(Z-Image-Turbo|FLUX\.2-klein-4B) (\d+) (fp32|bf16|q8|q4) (\{.*?\}) (\{.*\})$", line.strip())
            if m:
                lines.append((m.group(1), int(m.group(2)), m.group(3), ast.literal_eval(m.group(4)), ast.literal_eval(m.group(5))))
    for name, m in ([] if a.replay else [(k, v) for k, v in MODELS.items() if not a.models or k in a.models.split(",")]):
        for size in [int(s) for s in a.sizes.split()]:
            for prec in precisions:
                sw = run_mflux(a.mflux, m["ckpt"], size, a.steps, prec)
                th = run_torch(sys.executable, m["ckpt"], size, a.steps,
                               {"fp32": "float32", "bf16": "bfloat16"}.get(prec, "qint8"), threads)
                print(name, size, prec, sw, th, flush=True)
                lines.append((name, size, prec, sw, th))
    full_rows = []
    if a.replay and a.full:
        import ast
        for line in open(a.replay):
            m = re.match(r"^full (fp32|bf16) (\{.*\})$", line.strip())
            if m:
                full_rows.append((m.group(1), ast.literal_eval(m.group(2))))
    elif a.full:
        for prec in precisions:
            r = run_mflux(a.mflux, ".bench/zimage-full", 512, a.steps, prec)
            print("full", prec, r, flush=True)
            full_rows.append((prec, r))
    # Sections measured elsewhere (e.g. on the 16-core machine) follow KEEP_MARKER and are kept.
    kept = ""
    if os.path.exists(a.out):
        old = open(a.out).read()
        if KEEP_MARKER in old:
            kept = "\n" + old[old.index(KEEP_MARKER):]
    with open(a.out, "w") as f:
        f.write("# Performance\n\n")
        f.write(f"Written by `{a.command}` on {datetime.date.today().isoformat()}: {model_name}, {threads} cores"
                f"{', AVX512-BF16' if bf16 else ' (no bf16 instructions: torch bf16 and our bf16 are not measured)'}. "
                "Random-weight checkpoints at the real widths with reduced depth (`.bench/`, bf16 stored, diffusers layout): "
                "Z-Image-Turbo (dim 3840, 30 heads; 2 main + 1 + 1 refiner layers; 4 Qwen3-4B layers; the full VAE) and "
                "FLUX.2-klein-4B (24 x 128 heads; 1 double + 2 single blocks; Qwen3 at 2560 wide, 27 narrow layers; the full VAE). "
                f"{a.steps} steps, one image, same prompt and seed; mflux-swift = the release `mflux generate`, torch = diffusers 0.42.1 "
                "on CPU torch in the same run (q8/q4 rows: mflux -q 8/-q 4 against torch's dynamic int8, quantize_dynamic of every nn.Linear "
                "of the transformer and text encoder). Ratios are mflux-swift / torch (lower is faster or leaner). "
                "\"full-depth step\" scales the measured step by the ratio of transformer blocks (30+2+2 and 5x2+20 double-block "
                "equivalents), an estimate. GEMM peak (2048³, this machine): "
                f"fp32 {peaks['fp32'] or '–'} GFLOP/s" + (f", bf16 {peaks['bf16']} GFLOP/s" if peaks["bf16"] else "") + ".\n\n")
        f.write("| model | size | precision | row | mflux-swift | torch | ratio |\n|---|---|---|---|---|---|---|\n")
        for name, size, prec, sw, th in lines:
            full = MODELS[name]["full"] / MODELS[name]["reduced"]
            rows = [("text encoder", sw["encode"], th.get("encode"), ""), ("transformer step", sw["step"], th.get("step"), ""),
                    ("full-depth step (est.)", sw["step"] and sw["step"] * full, th.get("step") and th["step"] * full, ""),
                    ("VAE decode", sw["decode"], th.get("decode"), ""), ("end to end", sw["total"], th.get("total"), ""),
                    ("peak RSS", sw["rss"], th.get("rss"), "rss")]
            ours_fp32 = next((l[3] for l in lines if l[0] == name and l[1] == size and l[2] == "fp32"), None)
            if prec != "fp32" and ours_fp32 and sw["step"]:
                rows.append((f"step / our fp32 step", None, None, f"{sw['step'] / ours_fp32['step']:.2f}"))
            if sw["step"]:
                flops = linear_flops(name, MODELS[name]["ckpt"], size)
                peak = peaks.get(prec)
                share = f"{flops / sw['step'] / 1e9:.0f} GFLOP/s in linears" + (f" = {100 * flops / sw['step'] / 1e9 / peak:.0f} % of the GEMM peak" if peak else "")
                rows.append(("linear throughput (≈)", None, None, share))
            for row, s, t, unit in rows:
                if unit not in ("", "rss"):
                    f.write(f"| {name} | {size}² | {prec} | {row} | {unit} | | |\n")
                    continue
                f.write(f"| {name} | {size}² | {prec} | {row} | {fmt(s, unit)} | {fmt(t, unit) if 'error' not in th else th['error']} | {ratio(s, t)} |\n")
        if full_rows:
            f.write("\n## Full depth\n\nZ-Image-Turbo with its real shapes (30 + 2 + 2 layers, Qwen3-4B, the full VAE; random bf16 "
                    "weights, 19.7 GB on disk, `make_bench_checkpoint.py zimage-full`), 512x512, "
                    f"{a.steps} steps, mflux-swift only (diffusers fp32 needs about 40 GB for this checkpoint).\n\n"
                    "| precision | text encoder | step | VAE decode | end to end | peak RSS |\n|---|---|---|---|---|---|\n")
            for prec, r in full_rows:
                f.write(f"| {prec} | {fmt(r['encode'])} | {fmt(r['step'])} | {fmt(r['decode'])} | {fmt(r['total'])} | {fmt(r['rss'], 'rss')} |\n")
        f.write(kept)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
