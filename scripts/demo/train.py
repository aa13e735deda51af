#!/usr/bin/env python3
"""Trains the demo model (Z-Image architecture, small widths) with diffusers' and transformers' own
classes: the VAE first, then the transformer and the text encoder together with the flow-matching
objective Z-Image is trained with, for few-step sampling. Deterministic seeds; checkpoints are
saved after each stage and every few minutes, and a run resumes from them.

Usage: python train.py --tokenizer DIR --out DIR [--stage vae|dit|all] [--minutes M] [--quick]
Writes to --out: vae.pt, dit.pt (state dicts + optimiser, float32), latents_stats.json, log.txt,
eval.json (the colour test on the held-out captions). `assemble.py` turns them into the
diffusers folder.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402
from config import DIT, TEXT_ENCODER, VAE, SAMPLING  # noqa: E402


def log(out, *a):
    line = " ".join(str(x) for x in a)
    print(line, flush=True)
    with open(os.path.join(out, "log.txt"), "a") as f:
        f.write(line + "\n")


def _render(spec):
    return scenes.render(*spec)


def make_dataset(n, seed, exclude):
    """n scenes (uint8 [n, 128, 128, 3]) and captions, none of them in `exclude` (rendered in
    parallel; the scenes depend on `seed` only)."""
    from multiprocessing import Pool
    rng = np.random.default_rng(seed)
    specs, caps = [], []
    while len(specs) < n:
        spec = scenes.sample_scene(rng)
        c = scenes.caption(spec[0], spec[1])
        if c in exclude:
            continue
        specs.append(spec)
        caps.append(c)
    with Pool(min(16, os.cpu_count() or 1)) as pool:
        imgs = np.stack(pool.map(_render, specs, chunksize=256))
    return imgs, caps


def to_pixels(batch_u8, device):
    x = torch.from_numpy(batch_u8).to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1


def build_vae():
    from diffusers import AutoencoderKL
    return AutoencoderKL(**VAE)


def build_text_encoder(vocab):
    from transformers import Qwen3Config, Qwen3Model
    cfg = Qwen3Config(vocab_size=vocab, **TEXT_ENCODER)
    return Qwen3Model(cfg)


def build_transformer():
    from diffusers import ZImageTransformer2DModel
    return ZImageTransformer2DModel(**DIT)


SHARD_BYTES = 14 * 1024 * 1024  # files coming back from the GPU machine are at most 16 MiB


def save_weights(folder, name, state):
    """`state` (float32) as `name-K.safetensors` shards of at most SHARD_BYTES, written atomically."""
    from safetensors.torch import save_file
    shards, cur, size = [], {}, 0
    for k in sorted(state):
        t = state[k].detach().float().contiguous().cpu()
        if cur and size + t.numel() * 4 > SHARD_BYTES:
            shards.append(cur); cur, size = {}, 0
        cur[k] = t; size += t.numel() * 4
    shards.append(cur)
    for f in os.listdir(folder):
        if f.startswith(name + "-") and f.endswith(".safetensors"):
            os.remove(os.path.join(folder, f))
    for i, sh in enumerate(shards):
        tmp = os.path.join(folder, f".{name}-{i}.tmp")
        save_file(sh, tmp)
        os.replace(tmp, os.path.join(folder, f"{name}-{i}.safetensors"))


def load_weights(folder, name):
    """The state dict saved by `save_weights`, or None."""
    from safetensors.torch import load_file
    files = sorted(f for f in os.listdir(folder) if f.startswith(name + "-") and f.endswith(".safetensors")) if os.path.isdir(folder) else []
    if not files:
        return None
    state = {}
    for f in files:
        state.update(load_file(os.path.join(folder, f)))
    return state


def load_state(folder):
    path = os.path.join(folder, "state.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def save_state(folder, state):
    json.dump(state, open(os.path.join(folder, "state.json"), "w"), indent=1)


def train_vae(args, data, device, state):
    torch.manual_seed(1)
    vae = build_vae().to(device).train()
    opt = torch.optim.AdamW(vae.parameters(), lr=args.vae_lr, weight_decay=0.0)
    step = state.get("vae_step", 0)
    saved = load_weights(args.resume, "vae") if args.resume else None
    if saved is not None:
        vae.load_state_dict(saved)
        log(args.out, f"vae: resumed at step {step} (optimiser state restarts)")
    rng = np.random.default_rng(100 + step)
    t0 = time.time()
    while step < min(args.vae_steps, args.vae_stop or args.vae_steps) and time.time() - t0 < args.vae_minutes * 60:
        idx = rng.integers(0, len(data), args.vae_batch)
        x = to_pixels(data[idx], device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z).sample
        rec = rec.float()
        kl = post.kl().mean()
        loss = F.mse_loss(rec, x) + 0.5 * F.l1_loss(rec, x) + 1e-6 * kl
        lr = args.vae_lr * min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / args.vae_steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 250 == 0 or step == args.vae_steps:
            log(args.out, f"vae step {step} loss {loss.item():.5f} kl {kl.item():.2f} ({time.time() - t0:.0f}s)")
    save_weights(args.out, "vae", vae.state_dict())
    state["vae_step"] = step
    save_state(args.out, state)
    return vae.eval(), step >= min(args.vae_steps, args.vae_stop or args.vae_steps)


@torch.no_grad()
def encode_latents(vae, data, device, batch=256):
    out = []
    for i in range(0, len(data), batch):
        x = to_pixels(data[i:i + batch], device)
        out.append(vae.encode(x).latent_dist.mean.float())
    return torch.cat(out)


def tokenize(tok, captions, device):
    texts = [tok.apply_chat_template([{"role": "user", "content": c}], tokenize=False, add_generation_prompt=True,
                                     enable_thinking=True) for c in captions]
    enc = tok(texts, padding="longest", return_tensors="pt")
    return enc.input_ids.to(device), enc.attention_mask.to(device)


def caption_features(te, ids, mask):
    """hidden_states[-2] of the real tokens, per item (as ZImagePipeline._encode_prompt)."""
    hs = te(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-2]
    return [hs[i][mask[i].bool()] for i in range(hs.shape[0])]


def shifted_sigmas(n, shift, device, gen):
    u = torch.rand(n, generator=gen, device="cpu").to(device)
    return shift * u / (1 + (shift - 1) * u)


@torch.no_grad()
def sample(dit, te, tok, captions, stats, device, steps, guidance, seed=0):
    """Z-Image's sampler (Euler over linspace(1, 1/N, N) shifted sigmas, CFG pos + g(pos - neg))."""
    n = len(captions)
    gen = torch.Generator("cpu").manual_seed(seed)
    c = VAE["latent_channels"]
    x = torch.randn((n, c, 16, 16), generator=gen).to(device)
    ids, mask = tokenize(tok, captions, device)
    pos = caption_features(te, ids, mask)
    neg = None
    if guidance > 0:
        nids, nmask = tokenize(tok, [""] * n, device)
        neg = caption_features(te, nids, nmask)
    shift = SAMPLING["shift"]
    base = torch.linspace(1, 1 / steps, steps)
    sig = (shift * base / (1 + (shift - 1) * base)).tolist() + [0.0]
    for i in range(steps):
        t = torch.full((n,), 1 - sig[i], device=device)
        xs = list(x.unsqueeze(2).unbind(0))
        out = torch.stack(dit(xs, t, pos, return_dict=False)[0]).squeeze(2)
        if neg is not None:
            o2 = torch.stack(dit(xs, t, neg, return_dict=False)[0]).squeeze(2)
            out = out + guidance * (out - o2)
        x = x + (sig[i + 1] - sig[i]) * (-out)
    return x


def evaluate(args, vae, dit, te, tok, stats, device):
    held = scenes.held_out_captions()
    lat = sample(dit, te, tok, held, stats, device, SAMPLING["steps"], SAMPLING["guidance"])
    z = lat / stats["scaling_factor"] + stats["shift_factor"]
    imgs = ((vae.decode(z).sample.float() / 2 + 0.5).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    ok_o = n_o = ok_b = 0
    for img, c in zip(imgs, held):
        a, b, cbg, _ = scenes.check(img, c)
        ok_o += a; n_o += b; ok_b += cbg
    res = {"objects": ok_o / n_o, "backgrounds": ok_b / len(held), "captions": len(held)}
    return res, imgs


def train_dit(args, vae, data, caps, device, state):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(args.tokenizer)
    latents = encode_latents(vae, data, device)
    stats = state.get("stats")
    if stats is None:
        shift = latents.mean().item()
        scale = 1.0 / (latents - shift).std().item()
        stats = {"shift_factor": round(shift, 4), "scaling_factor": round(scale, 4)}
        state["stats"] = stats
    x0_all = (latents - stats["shift_factor"]) * stats["scaling_factor"]
    log(args.out, f"latents {tuple(latents.shape)} stats {stats}")
    torch.manual_seed(2)
    dit = build_transformer().to(device).train()
    te = build_text_encoder(len(tok)).to(device).train()
    params = list(dit.parameters()) + list(te.parameters())
    opt = torch.optim.AdamW(params, lr=args.dit_lr, weight_decay=0.01)
    step = state.get("dit_step", 0)
    saved = (load_weights(args.resume, "dit"), load_weights(args.resume, "te")) if args.resume else (None, None)
    if saved[0] is not None:
        dit.load_state_dict(saved[0]); te.load_state_dict(saved[1])
        log(args.out, f"dit: resumed at step {step} (optimiser state restarts with a short warm-up)")
    start = step
    gen = torch.Generator("cpu").manual_seed(1000 + step)
    rng = np.random.default_rng(2000 + step)
    t0, last_save = time.time(), time.time()
    while step < min(args.dit_steps, args.dit_stop or args.dit_steps) and time.time() - t0 < args.dit_minutes * 60:
        idx = rng.integers(0, len(x0_all), args.dit_batch)
        x0 = x0_all[idx]
        texts = [("" if rng.random() < args.cfg_dropout else caps[i]) for i in idx]
        ids, mask = tokenize(tok, texts, device)
        noise = torch.randn(x0.shape, generator=gen).to(device)
        sigma = shifted_sigmas(len(idx), SAMPLING["shift"], device, gen)
        xt = (1 - sigma[:, None, None, None]) * x0 + sigma[:, None, None, None] * noise
        target = x0 - noise  # Z-Image's output is the negated velocity, at time 1 - sigma
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            feats = caption_features(te, ids, mask)
            out = dit(list(xt.unsqueeze(2).unbind(0)), 1 - sigma, feats, return_dict=False)[0]
        pred = torch.stack(out).squeeze(2).float()
        loss = F.mse_loss(pred, target)
        lr = args.dit_lr * min(1.0, (step - start + 1) / 300) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / args.dit_steps))))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 250 == 0:
            log(args.out, f"dit step {step} loss {loss.item():.4f} lr {lr:.2e} ({time.time() - t0:.0f}s)")
        if time.time() - last_save > 120:
            save_weights(args.out, "dit", dit.state_dict()); save_weights(args.out, "te", te.state_dict())
            state["dit_step"] = step; save_state(args.out, state)
            last_save = time.time()
    save_weights(args.out, "dit", dit.state_dict()); save_weights(args.out, "te", te.state_dict())
    state["dit_step"] = step
    save_state(args.out, state)
    dit.eval(); te.eval()
    res, imgs = evaluate(args, vae, dit, te, tok, stats, device)
    res["step"] = step
    log(args.out, f"eval at step {step}: {res}")
    state["eval"] = res
    save_state(args.out, state)
    np.save(os.path.join(args.out, "eval_images.npy"), imgs[:16])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stage", default="all", choices=["vae", "dit", "all"])
    p.add_argument("--resume", help="a folder written by an earlier run (weights and state.json)")
    p.add_argument("--vae-minutes", type=float, default=1.5)
    p.add_argument("--dit-minutes", type=float, default=6.5)
    p.add_argument("--quick", action="store_true", help="a few steps on a few images (smoke test)")
    p.add_argument("--scenes", type=int, default=40000)
    p.add_argument("--vae-steps", type=int, default=4000)
    p.add_argument("--vae-batch", type=int, default=64)
    p.add_argument("--vae-lr", type=float, default=1e-3)
    p.add_argument("--vae-stop", type=int, help="stop the VAE at this step (the schedule keeps --vae-steps)")
    p.add_argument("--dit-steps", type=int, default=20000)
    p.add_argument("--dit-stop", type=int, help="stop the transformer at this step (the schedule keeps --dit-steps)")
    p.add_argument("--dit-batch", type=int, default=128)
    p.add_argument("--dit-lr", type=float, default=4e-4)
    p.add_argument("--cfg-dropout", type=float, default=0.1)
    args = p.parse_args()
    if args.quick:
        args.scenes, args.vae_steps, args.vae_batch, args.dit_steps, args.dit_batch = 256, 4, 4, 4, 4
    os.makedirs(args.out, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    exclude = set(scenes.held_out_captions())
    t0 = time.time()
    data, caps = make_dataset(args.scenes, 7, exclude)
    log(args.out, f"{len(data)} scenes in {time.time() - t0:.0f}s on {device}")
    state = load_state(args.resume) if args.resume else {}
    if state.get("vae_step", 0) < min(args.vae_steps, args.vae_stop or args.vae_steps) and args.stage in ("vae", "all"):
        vae, done = train_vae(args, data, device, state)
    else:
        vae, done = build_vae().to(device), True
        vae.load_state_dict(load_weights(args.resume, "vae"))
        vae.eval()
        save_weights(args.out, "vae", vae.state_dict())
        save_state(args.out, state)
    if args.stage in ("dit", "all") and done:
        train_dit(args, vae, data, caps, device, state)


if __name__ == "__main__":
    main()
