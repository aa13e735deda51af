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
        self.manifest = {}  # extra manifest entries of a case

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


def _hook_zimage(pipe, rec):
    """Text encoder, encode_prompt, transformer, scheduler.step and vae.decode hooks (every Z-Image pipeline)."""
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


def run_zimage(folder, case):
    from diffusers import ZImagePipeline

    pipe = ZImagePipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    rec = Recorder()
    _hook_zimage(pipe, rec)
    prepare = pipe.prepare_latents

    def prepare_wrapper(*a, **kw):
        latents = prepare(*a, **kw)
        rec.put("noise", latents)
        return latents

    pipe.prepare_latents = prepare_wrapper
    images = pipe(prompt=case["prompt"], negative_prompt=case.get("negative_prompt"), height=case["height"],
                  width=case["width"], num_inference_steps=case["steps"], guidance_scale=case["guidance"],
                  generator=seeded_generator(case["seed"]), output_type="np").images
    rec.put("final_latents", rec.t[f"step.{case['steps'] - 1}.latents"])
    return pipe, rec, images


# PIL LANCZOS resizes of the img2img input to sizes the pipeline itself never asks for (up, down,
# one axis only, mixed): the port's resize checked on its own, as a CLI that resizes to any size would use it.
# Pillow 13 runs the vertical pass first when the height shrinks and (H - h) > 2 (W - w) (found by
# comparing both orders with Pillow on ~900 size pairs; Pillow <= 12 is always horizontal first):
# 128x16 and 72x40 are vertical first, 72x48 is the tie (horizontal first), the others horizontal first.
IMG2IMG_EXTRA_RESIZES = ((96, 72), (40, 30), (77, 32), (128, 16), (72, 40), (72, 48))


def run_zimage_img2img(folder, case):
    """ZImageImg2ImgPipeline with the text-to-image hooks plus the image path: resize, VAE encode
    (the posterior and its sample), strength truncation, scale_noise."""
    from PIL import Image
    from diffusers import ZImageImg2ImgPipeline

    pipe = ZImageImg2ImgPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    rec = Recorder()
    _hook_zimage(pipe, rec)
    init_image = Image.open(case["image_path"]).convert("RGB")
    rec.put("img2img.image_input.uint8", torch.from_numpy(np.array(init_image)))

    resize = pipe.image_processor.resize

    def resize_wrapper(image, height, width, *a, **kw):
        out = resize(image, height, width, *a, **kw)
        rec.put("img2img.image_resized.uint8", torch.from_numpy(np.array(out)))
        return out

    pipe.image_processor.resize = resize_wrapper
    vae_encode = pipe.vae.encode

    def vae_encode_wrapper(x, *a, **kw):
        rec.put("img2img.image_in", x)
        out = vae_encode(x, *a, **kw)
        post = out.latent_dist
        rec.put("img2img.vae.encode.moments", post.parameters)
        rec.put("img2img.vae.encode.mean", post.mean)
        rec.put("img2img.vae.encode.logvar", post.logvar)
        rec.put("img2img.vae.encode.std", post.std)
        sample = post.sample

        def sample_wrapper(generator=None):
            z = sample(generator)
            rec.put("img2img.image_latents.raw", z)
            return z

        post.sample = sample_wrapper
        return out

    pipe.vae.encode = vae_encode_wrapper
    get_timesteps = pipe.get_timesteps

    def get_timesteps_wrapper(*a, **kw):
        timesteps, n = get_timesteps(*a, **kw)
        begin = pipe.scheduler.begin_index
        rec.put("img2img.timesteps", timesteps)
        rec.put("img2img.sigmas", pipe.scheduler.sigmas[begin:])
        rec.put("img2img.begin_index", torch.tensor([begin], dtype=torch.int64))
        return timesteps, n

    pipe.get_timesteps = get_timesteps_wrapper
    scale_noise = pipe.scheduler.scale_noise

    def scale_noise_wrapper(sample, timestep, noise=None):
        out = scale_noise(sample, timestep, noise)
        rec.put("img2img.image_latents", sample)
        rec.put("img2img.latent_timestep", timestep)
        rec.put("noise", noise)
        rec.put("img2img.latents.start", out)
        return out

    pipe.scheduler.scale_noise = scale_noise_wrapper
    images = pipe(prompt=case["prompt"], image=init_image, strength=case["strength"], negative_prompt=case.get("negative_prompt"),
                  height=case["height"], width=case["width"], num_inference_steps=case["steps"],
                  guidance_scale=case["guidance"], generator=seeded_generator(case["seed"]), output_type="np").images
    steps_run = rec.step
    rec.put("final_latents", rec.t[f"step.{steps_run - 1}.latents"])

    # The generator's draws, replayed: the posterior sample first (shape of the encoded image's
    # latents), then the noise (shape of the output latents). Checked bitwise.
    t = rec.t
    g = seeded_generator(case["seed"])
    eps = torch.randn(t["img2img.vae.encode.mean"].shape, generator=g, dtype=torch.float32)
    assert torch.equal(t["img2img.vae.encode.mean"] + t["img2img.vae.encode.std"] * eps, t["img2img.image_latents.raw"])
    assert torch.equal(torch.randn(t["noise"].shape, generator=g, dtype=torch.float32), t["noise"])
    rec.put("img2img.vae.encode.eps", eps)
    cfg = pipe.vae.config
    assert torch.equal((t["img2img.image_latents.raw"] - cfg.shift_factor) * cfg.scaling_factor, t["img2img.image_latents"])
    sigma = t["img2img.sigmas"][0]
    assert torch.equal(sigma * t["noise"] + (1.0 - sigma) * t["img2img.image_latents"], t["img2img.latents.start"])
    assert torch.equal(t["step.0.transformer.in.x"][:, :, 0], t["img2img.latents.start"])
    assert torch.equal(t["img2img.latent_timestep"], t["img2img.timesteps"][:1])
    # The preprocessing, replayed from the resized pixels: /255 in float32, then 2x - 1.
    u8 = t["img2img.image_resized.uint8"]
    assert torch.equal((u8.float() / 255.0).permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0, t["img2img.image_in"])
    for w, h in IMG2IMG_EXTRA_RESIZES:
        rec.put(f"img2img.lanczos.{w}x{h}.uint8", torch.from_numpy(np.array(init_image.resize((w, h), Image.LANCZOS))))

    n, s = case["steps"], case["strength"]
    init_timestep = min(n * s, n)
    t_start = int(max(n - init_timestep, 0))
    assert t_start == int(t["img2img.begin_index"][0]) and steps_run == n - t_start
    iw, ih = init_image.size
    rec.manifest = {
        "strength": s, "input_image": case["image"], "input_width": iw, "input_height": ih,
        "preprocessed_width": int(u8.shape[1]), "preprocessed_height": int(u8.shape[0]),
        "latent_height": int(t["noise"].shape[2]), "latent_width": int(t["noise"].shape[3]),
        "steps_run": steps_run, "t_start": t_start, "init_timestep": repr(init_timestep),
        "latent_timestep": float(t["img2img.latent_timestep"][0]), "sigma_start": float(sigma),
        "lanczos_extra_sizes": [list(x) for x in IMG2IMG_EXTRA_RESIZES],
        "semantics": IMG2IMG_SEMANTICS,
    }
    return pipe, rec, images


IMG2IMG_SEMANTICS = {
    "call": "ZImageImg2ImgPipeline(prompt, image=PIL RGB image, strength, height, width, num_inference_steps, guidance_scale, "
            "generator=torch.Generator('cpu').manual_seed(seed), output_type='np')",
    "preprocess": "image_processor = VaeImageProcessor(vae_scale_factor=16, resample='lanczos', do_convert_rgb=False); "
                  "preprocess(image) is called WITHOUT height/width: size = (W - W % 16, H - H % 16) of the input image; "
                  "PIL Image.resize((w, h), LANCZOS, reducing_gap=None) on the uint8 RGB image (a no-op copy when the size "
                  "is already right; no crop, aspect ratio not kept): two separable passes of 8-bit fixed-point "
                  "convolution (22 fractional bits, rounded and clipped to uint8 after each pass; Pillow 13: vertical "
                  "pass first iff h < H and (H - h) > 2 (W - w), else horizontal first); then float32 /255, NCHW, 2x - 1",
    "output_size": "height/width default to the preprocessed image's size (the input floored to multiples of 16); "
                   "explicit height/width must equal it: any other multiple of 16 passes the divisibility check but "
                   "fails in scheduler.scale_noise with a RuntimeError (image latents and noise shapes differ)",
    "encode": "vae.encode(image_in) in the text encoder's dtype; posterior moments = encoder output (no quant_conv): "
              "mean, logvar = chunk(2, dim=1); logvar = clamp(logvar, -30, 20); std = exp(0.5 logvar); "
              "retrieve_latents SAMPLES: raw = mean + std * randn(mean.shape, generator); "
              "image_latents = (raw - shift_factor) * scaling_factor",
    "rng_order": "one generator: draw 1 = the posterior eps [B,16,h,w], draw 2 = the noise [B,16,h,w] (randn_tensor, "
                 "float32, CPU); with strength 1 the start latents are the second draw, not the text-to-image noise",
    "timesteps": "sigmas = linspace(1, 1/N, N) (shift 3 applied by the scheduler, terminal 0 appended), timesteps = 1000 sigma; "
                 "init_timestep = min(N * strength, N) (Python float); t_start = int(max(N - init_timestep, 0)); "
                 "timesteps = timesteps[t_start:]; scheduler.set_begin_index(t_start); steps run = N - t_start "
                 "(ValueError if < 1); latent_timestep = timesteps[0]",
    "scale_noise": "sigma = scheduler.sigmas[begin_index] (= sigmas[t_start]); latents = sigma * noise + (1 - sigma) * image_latents",
    "loop": "as ZImagePipeline: t_model = (1000 - t)/1000, noise_pred = -transformer(...), Euler step with sigmas[t_start + i] "
            "-> sigmas[t_start + i + 1]; decode latents / scaling_factor + shift_factor",
    "strength_checks": "strength < 0 or > 1: ValueError 'The value of strength should be in [0.0, 1.0] but is {strength}'; "
                       "strength 0: t_start = N, ValueError 'After adjusting the num_inference_steps by strength parameter: "
                       "0.0, the number of pipeline steps is 0 which is < 1 and not appropriate for this pipeline.'; "
                       "strength 1: all N steps, sigma 1 (latents = noise)",
    "defaults": "strength 0.6, num_inference_steps 50, guidance_scale 5.0 (CFG when > 0), height/width None",
}


def _hook_klein_prompt_and_noise(pipe, rec, record_size=False):
    """klein's text encoder layers, prompt embeddings (+ negative), text ids, the drawn noise
    (unpacked to [1, 128, h, w]), the packed latents and their ids; `record_size` also keeps the
    height/width prepare_latents received in the manifest (editing cases)."""
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
        if record_size:
            rec.manifest["prepare_latents_height_width"] = [int(kw["height"]), int(kw["width"])]
        return packed, ids

    pipe.prepare_latents = prepare_wrapper


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
    _hook_klein_prompt_and_noise(pipe, rec)

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
    img2img = case.get("strength") is not None
    if img2img:
        case = dict(case, image_path=os.path.join(root, case["image"]))
    runner = run_zimage_img2img if img2img else (run_zimage if model == "zimage" else run_klein)
    edit = case.get("reference_images") is not None  # klein reference-image editing: export_edit.py
    if edit:
        from export_edit import run_klein_edit

        case = dict(case, reference_image_paths=[os.path.join(root, p) for p in case["reference_images"]])
        runner = run_klein_edit
    pipe, rec, images = runner(folder, case)
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
    if img2img:
        manifest.update(rec.manifest)
        manifest["files"].append(os.path.basename(case["image"]))
    if edit:
        manifest.update(rec.manifest)
        manifest["files"] += [os.path.basename(p) for p in case["reference_images"]]
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
