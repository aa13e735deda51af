"""Runs each tiny pipeline on CPU (reloaded from disk) and exports the tensors at every critical
point, with a manifest. Key names are documented in Docs/Porting.md.
"""
import json
import os

import numpy as np
import torch

from refcommon import save_png, save_tensors, seeded_generator, versions, write_json


class Recorder:
    """Collects named tensors from hooks installed on a pipeline."""

    def __init__(self):
        self.t = {}
        self.step = 0
        self.encoder_calls = 0

    def put(self, key, value):
        assert key not in self.t, f"{key} recorded twice"
        self.t[key] = value.detach().clone()

    def put_once(self, key, value):
        """Records a value that must be the same at every step."""
        if key in self.t:
            assert torch.equal(self.t[key], value), f"{key} changed between steps"
        else:
            self.t[key] = value.detach().clone()


def _component_configs(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        sub = os.path.join(folder, name)
        for cfg in ("config.json", "scheduler_config.json"):
            p = os.path.join(sub, cfg)
            if os.path.isfile(p):
                out[name] = json.load(open(p))
    out["model_index"] = json.load(open(os.path.join(folder, "model_index.json")))
    return out


def _image_checks(rec, noise_key, final_key):
    img = rec.t["image.uint8"].numpy().astype(np.float64)
    noise, final = rec.t[noise_key].double(), rec.t[final_key].double()
    return {
        "image_std_levels": round(float(img.std()), 4),
        "image_clipped_fraction": round(float(((img == 0) | (img == 255)).mean()), 6),
        "latent_relative_distance_from_noise": round(float((final - noise).norm() / noise.norm()), 6),
    }


def _enforce(checks, case):
    problems = []
    if checks["image_std_levels"] < 30:
        problems.append(f"image std {checks['image_std_levels']} < 30 levels")
    if checks["image_clipped_fraction"] > 0.05:
        problems.append(f"{checks['image_clipped_fraction']:.3f} of the values are clipped (> 5 %)")
    if checks["latent_relative_distance_from_noise"] < 0.10:
        problems.append(f"final latents only {checks['latent_relative_distance_from_noise']:.3f} from the noise")
    if problems:
        raise SystemExit(f"case {case}: not a real test: " + "; ".join(problems))


def _hook_common(pipe, rec):
    """scheduler.step and vae.decode wrappers (both pipelines)."""
    step = pipe.scheduler.step

    def step_wrapper(model_output, timestep, sample, *a, **kw):
        rec.put(f"step.{rec.step}.noise_pred", model_output)
        out = step(model_output, timestep, sample, *a, **kw)
        rec.put(f"step.{rec.step}.latents", out[0])
        rec.step += 1
        return out

    pipe.scheduler.step = step_wrapper
    decode = pipe.vae.decode

    def decode_wrapper(z, *a, **kw):
        rec.put("vae.decode.in", z)
        out = decode(z, *a, **kw)
        rec.put("vae.decode.out", out[0] if isinstance(out, tuple) else out.sample)
        return out

    pipe.vae.decode = decode_wrapper


def _text_encoder_hook(pipe, rec, layers):
    def hook(module, args, kwargs, output):
        prefix = "" if rec.encoder_calls == 0 else "negative."
        rec.encoder_calls += 1
        rec.put(prefix + "tokenizer.input_ids", kwargs["input_ids"])
        rec.put(prefix + "tokenizer.attention_mask", kwargs["attention_mask"].to(torch.uint8))
        for k in layers:
            rec.put(f"{prefix}text_encoder.hidden_states.{k}", output.hidden_states[k])

    pipe.text_encoder.register_forward_hook(hook, with_kwargs=True)


def run_zimage(folder, case):
    from diffusers import ZImagePipeline

    pipe = ZImagePipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    rec = Recorder()
    n_layers = pipe.text_encoder.config.num_hidden_layers
    # hidden_states[-2] is index n_layers - 1 (the output of decoder layer n_layers - 2).
    _text_encoder_hook(pipe, rec, [n_layers - 1])
    encode = pipe.encode_prompt

    def encode_wrapper(*a, **kw):
        pos, neg = encode(*a, **kw)
        rec.put("prompt_embeds", pos[0])
        if neg:
            rec.put("negative_prompt_embeds", neg[0])
        return pos, neg

    pipe.encode_prompt = encode_wrapper
    prepare = pipe.prepare_latents

    def prepare_wrapper(*a, **kw):
        latents = prepare(*a, **kw)
        rec.put("noise", latents)
        return latents

    pipe.prepare_latents = prepare_wrapper

    def transformer_hook(module, args, kwargs, output):
        x, t, cap = args[0], args[1], args[2]
        i = rec.step
        rec.put(f"step.{i}.transformer.in.x", torch.stack(list(x)))
        rec.put(f"step.{i}.transformer.in.t", t)
        for j, c in enumerate(cap):
            rec.put_once(f"transformer.in.cap.{j}", c)
        rec.put(f"step.{i}.transformer.out", torch.stack(list(output[0])))

    pipe.transformer.register_forward_hook(transformer_hook, with_kwargs=True)
    _hook_common(pipe, rec)
    images = pipe(prompt=case["prompt"], negative_prompt=case.get("negative_prompt"), height=case["height"],
                  width=case["width"], num_inference_steps=case["steps"], guidance_scale=case["guidance"],
                  generator=seeded_generator(case["seed"]), output_type="np").images
    rec.put("final_latents", rec.t[f"step.{case['steps'] - 1}.latents"])
    return pipe, rec, images


def run_klein(folder, case):
    from diffusers import Flux2KleinPipeline

    pipe = Flux2KleinPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    # A negative prompt replaces the pipeline's "" through negative_prompt_embeds (encoded before
    # the hooks, so that the recorded encoder calls stay prompt first, then the pipeline's own).
    negative = None
    if case.get("negative_prompt"):
        negative, _ = pipe.encode_prompt(prompt=case["negative_prompt"], device="cpu", num_images_per_prompt=1)
    rec = Recorder()
    _text_encoder_hook(pipe, rec, [9, 18, 27])
    encode = pipe.encode_prompt

    def encode_wrapper(*a, **kw):
        embeds, text_ids = encode(*a, **kw)
        prefix = "" if "prompt_embeds" not in rec.t else "negative_"
        rec.put(prefix + "prompt_embeds", embeds)
        rec.put(prefix + "text_ids", text_ids)
        return embeds, text_ids

    pipe.encode_prompt = encode_wrapper
    prepare = pipe.prepare_latents

    def prepare_wrapper(*a, **kw):
        packed, ids = prepare(*a, **kw)
        b, hw, c = packed.shape
        lh = 2 * (int(kw["height"]) // (pipe.vae_scale_factor * 2)) // 2
        lw = 2 * (int(kw["width"]) // (pipe.vae_scale_factor * 2)) // 2
        rec.put("noise", packed.permute(0, 2, 1).reshape(b, c, lh, lw))
        rec.put("latents.packed", packed)
        rec.put("latent_ids", ids)
        return packed, ids

    pipe.prepare_latents = prepare_wrapper

    def transformer_hook(module, args, kwargs, output):
        i = rec.step
        # Under guidance the pipeline calls the transformer twice per step: prompt, then negative.
        neg = "negative." if f"step.{i}.transformer.out" in rec.t else ""
        rec.put(f"step.{i}.{neg}transformer.in.hidden_states", kwargs["hidden_states"])
        rec.put(f"step.{i}.{neg}transformer.in.timestep", kwargs["timestep"])
        rec.put_once(f"{neg}transformer.in.encoder_hidden_states", kwargs["encoder_hidden_states"])
        rec.put_once("transformer.in.txt_ids", kwargs["txt_ids"])
        rec.put_once("transformer.in.img_ids", kwargs["img_ids"])
        rec.put(f"step.{i}.{neg}transformer.out", output[0])

    pipe.transformer.register_forward_hook(transformer_hook, with_kwargs=True)
    _hook_common(pipe, rec)
    images = pipe(prompt=case["prompt"], height=case["height"], width=case["width"], num_inference_steps=case["steps"],
                  guidance_scale=case["guidance"], negative_prompt_embeds=negative, generator=seeded_generator(case["seed"]),
                  output_type="np").images
    rec.put("final_latents", rec.t[f"step.{case['steps'] - 1}.latents"])
    return pipe, rec, images


def export_case(model, folder, case, out_dir, root, enforce=True):
    """Runs one case; paths in the manifest are relative to the exports folder `root`. `enforce`
    refuses images too flat to be a test (off for the trained flat-colour demo model, whose
    pixels are mostly saturated by design)."""
    pipe, rec, images = (run_zimage if model == "zimage" else run_klein)(folder, case)
    rec.put("scheduler.sigmas", pipe.scheduler.sigmas)
    rec.put("scheduler.timesteps", pipe.scheduler.timesteps)
    img = images[0]  # (H, W, 3) float in [0, 1], as the pipeline post-processes it
    rec.put("image.float", torch.from_numpy(np.ascontiguousarray(img)))
    u8 = (img * 255).round().astype("uint8")  # what the pipeline's "pil" output does
    rec.put("image.uint8", torch.from_numpy(u8))
    noise_key = "noise" if model == "zimage" else "latents.packed"
    checks = _image_checks(rec, noise_key, "final_latents")
    if enforce:
        _enforce(checks, case["name"])
    os.makedirs(out_dir, exist_ok=True)
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), rec.t)
    save_png(os.path.join(out_dir, "image.png"), u8)
    manifest = {
        "case": case["name"], "model": model, "pipeline_class": type(pipe).__name__,
        "checkpoint": os.path.relpath(folder, root), "prompt": case["prompt"], "negative_prompt": case.get("negative_prompt"),
        "seed": case["seed"], "steps": case["steps"], "guidance_scale": case["guidance"],
        "height": case["height"], "width": case["width"], "stored_dtype": case["stored_dtype"],
        "versions": versions(), "configs": _component_configs(folder), "checks": checks,
        "keys": keys, "files": ["tensors.safetensors", "image.png", "manifest.json"],
    }
    write_json(os.path.join(out_dir, "manifest.json"), manifest)
    return checks


def load_test_image(path):
    """The committed test image as the pipelines' image processor would feed the VAE: [-1, 1]."""
    from PIL import Image

    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0


def export_vae_roundtrip(model, folder, image_path, out_dir, root):
    from diffusers import AutoencoderKL, AutoencoderKLFlux2

    cls = AutoencoderKL if model == "zimage" else AutoencoderKLFlux2
    vae = cls.from_pretrained(os.path.join(folder, "vae"), torch_dtype=torch.float32).eval()
    x = load_test_image(image_path)
    latent = vae.encode(x).latent_dist.mode()
    y = vae.decode(latent).sample
    t = {"image.in": x, "latent.mode": latent, "image.out": y}
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), t)
    write_json(os.path.join(out_dir, "manifest.json"), {
        "model": model, "vae_class": cls.__name__, "checkpoint": os.path.relpath(folder, root), "test_image": os.path.relpath(image_path, root),
        "description": "encode (posterior mode, raw latent space: no scaling/shift, no patchify/BatchNorm) then decode",
        "versions": versions(), "keys": keys, "files": ["tensors.safetensors", "manifest.json"]})


def export_noise(out_dir):
    """torch.randn from seeded CPU generators, as the pipelines draw their initial noise."""
    t = {}
    for n in (1, 2, 15, 16, 17, 37, 4096):
        t[f"randn.seed42.n{n}"] = torch.randn(n, generator=seeded_generator(42), dtype=torch.float32)
    t["randn.seed4294967338.n37"] = torch.randn(37, generator=seeded_generator(2 ** 32 + 42), dtype=torch.float32)
    t["randn.seed0.zimage_1x16x8x6"] = torch.randn((1, 16, 8, 6), generator=seeded_generator(0), dtype=torch.float32)
    t["randn.seed7.klein_1x128x4x3"] = torch.randn((1, 128, 4, 3), generator=seeded_generator(7), dtype=torch.float32)
    # The real default size: Z-Image-Turbo at 1024x1024.
    t["randn.seed42.zimage_1x16x128x128"] = torch.randn((1, 16, 128, 128), generator=seeded_generator(42), dtype=torch.float32)
    sequences = {"scalar": [3, 5, 1, 2], "vector": [17, 32], "mixed": [7, 20, 5]}
    for name, sizes in sequences.items():
        g = seeded_generator(123)
        for i, n in enumerate(sizes):
            t[f"randn.sequence_{name}.{i}.n{n}"] = torch.randn(n, generator=g, dtype=torch.float32)
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), t)
    write_json(os.path.join(out_dir, "manifest.json"), {
        "description": "torch.randn(n, generator=torch.Generator('cpu').manual_seed(seed), dtype=float32); "
                       "randn.sequence_*: successive draws on one generator (seed 123) in key order",
        "versions": versions(), "keys": keys, "files": ["tensors.safetensors", "manifest.json"]})


def export_scheduler_tables(out_dir):
    """Sigmas, timesteps and the transformers' time inputs as both pipelines compute them, for
    many step counts (and, for klein, image sequence lengths)."""
    import numpy as np
    from diffusers.pipelines.flux2.pipeline_flux2_klein import compute_empirical_mu
    from diffusers.pipelines.z_image.pipeline_z_image import calculate_shift

    import build_pipelines as bp

    t, mus = {}, {}
    zs = bp.scheduler_zimage()
    for n in list(range(1, 13)) + [16, 20, 28, 30, 50, 100]:
        sigmas = torch.linspace(1.0, 1 / n, n).tolist()  # get_default_z_image_sigmas
        zs.set_timesteps(n, sigmas=sigmas, mu=calculate_shift(1024))
        t[f"zimage.n{n}.sigmas"] = zs.sigmas.clone()
        t[f"zimage.n{n}.timesteps"] = zs.timesteps.clone()
        t[f"zimage.n{n}.model_t"] = (1000 - zs.timesteps) / 1000
    ks = bp.scheduler_klein()
    for seq in (12, 48, 64, 256, 1024, 4096, 4300, 4301, 16384):
        for n in (1, 2, 3, 4, 8, 28, 50):
            mu = compute_empirical_mu(image_seq_len=seq, num_steps=n)
            ks.set_timesteps(n, sigmas=np.linspace(1.0, 1 / n, n), mu=mu)
            key = f"klein.seq{seq}.n{n}"
            mus[key] = repr(float(mu))
            t[f"{key}.sigmas"] = ks.sigmas.clone()
            t[f"{key}.timesteps"] = ks.timesteps.clone()
            t[f"{key}.model_t"] = ks.timesteps.to(torch.float32) / 1000
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), t)
    write_json(os.path.join(out_dir, "manifest.json"), {
        "description": "FlowMatchEulerDiscreteScheduler.set_timesteps as ZImagePipeline (static shift 3, sigmas from "
                       "torch.linspace) and Flux2KleinPipeline (exponential dynamic shift, sigmas from np.linspace, mu "
                       "from compute_empirical_mu(seq, n)) call it; model_t: the time each pipeline feeds its transformer",
        "mu": mus, "versions": versions(), "keys": keys, "files": ["tensors.safetensors", "manifest.json"]})


def export_vae_tiled(model, folder, out_dir, root, tile=128, latent_hw=(24, 40), seed=11):
    """diffusers' tiled VAE decode (`enable_tiling`, tiles of `tile` pixels, overlap 0.25) of random
    latents several tiles large, next to the untiled decode of the same latents."""
    from diffusers import AutoencoderKL, AutoencoderKLFlux2

    cls = AutoencoderKL if model == "zimage" else AutoencoderKLFlux2
    vae = cls.from_pretrained(os.path.join(folder, "vae"), torch_dtype=torch.float32).eval()
    z = torch.randn((1, vae.config.latent_channels) + tuple(latent_hw), generator=seeded_generator(seed))
    untiled = vae.decode(z).sample
    vae.enable_tiling()
    vae.tile_sample_min_size = tile
    vae.tile_latent_min_size = tile // (2 ** (len(vae.config.block_out_channels) - 1))
    tiled = vae.decode(z).sample
    t = {"latents": z, "decode.untiled": untiled, "decode.tiled": tiled}
    keys = save_tensors(os.path.join(out_dir, "tensors.safetensors"), t)
    write_json(os.path.join(out_dir, "manifest.json"), {
        "model": model, "vae_class": cls.__name__, "checkpoint": os.path.relpath(folder, root),
        "tile_sample_min_size": tile, "tile_overlap_factor": vae.tile_overlap_factor,
        "description": "vae.decode(latents) untiled and after enable_tiling() with tiles of tile_sample_min_size pixels",
        "versions": versions(), "keys": keys, "files": ["tensors.safetensors", "manifest.json"]})
