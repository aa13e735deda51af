"""FLUX.2-klein reference-image editing: Flux2KleinPipeline(image=[PIL, ...]) with the text-to-image
hooks plus every stage of the reference path (crop, VAE encode, patchify + BatchNorm, packing,
position ids, concatenation), each stage replayed and checked bitwise. Key names: Docs/Porting.md
("FLUX.2-klein reference-image editing"); the exact rules are in EDIT_SEMANTICS (copied into the
case manifest).
"""
import math
import os

import numpy as np
import torch

import export_cases as ex
from refcommon import save_png, seeded_generator


def make_reference_image(path, width, height, variant):
    """A deterministic structured RGB test picture (gradients, stripes, hard-edged shapes)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    if variant == 0:
        r = 255 * (x + y) / (width + height - 2)
        g = 128 + 110 * np.sin(x / 4.0)
        b = 255 * y / (height - 1)
        img = np.stack([r, g, b], axis=-1)
        img[((x // 6) % 2 == 0) & (y < height // 3)] = [240, 240, 240]      # white stripes, top third
        inside = (x - 0.7 * width) ** 2 + (y - 0.55 * height) ** 2 < (0.22 * height) ** 2
        img[inside] = [220, 30, 40]                                          # a red disc
        img[height - 12:height - 8, 6:width - 6] = [15, 15, 60]              # a dark bar
    else:
        cx, cy = (width - 1) / 2.0, (height - 1) / 3.0
        rad = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        r = 128 + 120 * np.cos(rad / 5.0)
        g = 255 * (1 - y / (height - 1))
        b = 60 + 150 * x / (width - 1)
        img = np.stack([r, g, b], axis=-1)
        img[(y // 10) % 3 == 0, 1] = 20                                      # green-channel bands
        img[int(0.6 * height):int(0.6 * height) + 24, 10:34] = [30, 200, 90]  # a green square
        img[:, width // 2 - 1:width // 2 + 1] = [250, 250, 0]                # a thin yellow line
    save_png(path, np.clip(np.round(img), 0, 255).astype(np.uint8))


def run_klein_edit(folder, case):
    """Flux2KleinPipeline with `image=[...]` (case["reference_image_paths"]); height/width passed
    only when the case sets them (None: derived by the pipeline from the first reference)."""
    from PIL import Image
    from diffusers import Flux2KleinPipeline

    pipe = Flux2KleinPipeline.from_pretrained(folder, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    rec = ex.Recorder()
    ex._hook_klein_prompt_and_noise(pipe, rec, record_size=True)

    # The reference path, in call order. Each reference image goes through check_image_input (all
    # of them first), then (per image) the optional area resize, the center crop, preprocess; then
    # (per image) vae.encode and _encode_vae_image; then prepare_image_latents packs and concatenates.
    counters = {"check": 0, "area": 0, "crop": 0, "pre": 0, "enc": 0, "bn": 0}
    ip = pipe.image_processor
    check = ip.check_image_input

    def check_wrapper(image, *a, **kw):
        i = counters["check"]
        counters["check"] += 1
        rec.put(f"edit.ref.{i}.input.uint8", torch.from_numpy(np.array(image)))
        rec.manifest.setdefault("reference_modes", []).append(image.mode)
        return check(image, *a, **kw)

    ip.check_image_input = check_wrapper
    area = ip._resize_to_target_area

    def area_wrapper(image, target_area=1024 * 1024):
        i = counters["crop"]  # image i is area-resized just before its crop
        counters["area"] += 1
        out = area(image, target_area)
        rec.put(f"edit.ref.{i}.area_resized.uint8", torch.from_numpy(np.array(out)))
        return out

    ip._resize_to_target_area = area_wrapper
    crop = ip._resize_and_crop

    def crop_wrapper(image, width, height):
        i = counters["crop"]
        counters["crop"] += 1
        out = crop(image, width, height)
        rec.put(f"edit.ref.{i}.cropped.uint8", torch.from_numpy(np.array(out)))
        left, top = (image.width - width) // 2, (image.height - height) // 2
        rec.manifest.setdefault("reference_crops", []).append(
            {"from_width": image.width, "from_height": image.height, "left": left, "top": top, "width": width, "height": height})
        return out

    ip._resize_and_crop = crop_wrapper
    preprocess = ip.preprocess

    def preprocess_wrapper(image, *a, **kw):
        i = counters["pre"]
        counters["pre"] += 1
        out = preprocess(image, *a, **kw)
        rec.put(f"edit.ref.{i}.preprocessed", out)
        rec.manifest.setdefault("preprocess_calls", []).append(
            {"height": kw.get("height"), "width": kw.get("width"), "resize_mode": kw.get("resize_mode")})
        return out

    ip.preprocess = preprocess_wrapper
    vae_encode = pipe.vae.encode

    def vae_encode_wrapper(x, *a, **kw):
        i = counters["enc"]
        counters["enc"] += 1
        rec.put(f"edit.ref.{i}.vae.encode.in", x)
        out = vae_encode(x, *a, **kw)
        post = out.latent_dist
        rec.put(f"edit.ref.{i}.vae.encode.moments", post.parameters)
        rec.put(f"edit.ref.{i}.vae.encode.mean", post.mean)
        return out

    pipe.vae.encode = vae_encode_wrapper
    encode_vae_image = pipe._encode_vae_image

    def encode_vae_image_wrapper(image, generator):
        i = counters["bn"]
        counters["bn"] += 1
        out = encode_vae_image(image=image, generator=generator)
        rec.put(f"edit.ref.{i}.latents.normalized", out)
        return out

    pipe._encode_vae_image = encode_vae_image_wrapper
    prepare_image_latents = pipe.prepare_image_latents

    def prepare_image_latents_wrapper(*a, **kw):
        tokens, ids = prepare_image_latents(*a, **kw)
        rec.put("edit.image_latents", tokens)
        rec.put("edit.image_latent_ids", ids)
        return tokens, ids

    pipe.prepare_image_latents = prepare_image_latents_wrapper

    def transformer_hook(module, args, kwargs, output):
        i = rec.step
        neg = "negative." if f"step.{i}.transformer.out" in rec.t else ""
        rec.put(f"step.{i}.{neg}transformer.in.hidden_states", kwargs["hidden_states"])
        rec.put(f"step.{i}.{neg}transformer.in.timestep", kwargs["timestep"])
        rec.put_once(f"{neg}transformer.in.encoder_hidden_states", kwargs["encoder_hidden_states"])
        rec.put_once("transformer.in.txt_ids", kwargs["txt_ids"])
        rec.put_once("transformer.in.img_ids", kwargs["img_ids"])
        rec.put(f"step.{i}.{neg}transformer.out", output[0])

    pipe.transformer.register_forward_hook(transformer_hook, with_kwargs=True)
    ex._hook_common(pipe, rec)

    refs = []
    for p in case["reference_image_paths"]:
        im = Image.open(p)
        im.load()
        refs.append(im)
    kwargs = {}
    if case.get("height") is not None:
        kwargs["height"] = case["height"]
    if case.get("width") is not None:
        kwargs["width"] = case["width"]
    generator = seeded_generator(case["seed"])
    images = pipe(image=refs, prompt=case["prompt"], num_inference_steps=case["steps"], guidance_scale=case["guidance"],
                  generator=generator, output_type="np", **kwargs).images
    rec.put("final_latents", rec.t[f"step.{case['steps'] - 1}.latents"])
    _replay_checks(pipe, rec, case, refs, generator)
    return pipe, rec, images


def _replay_checks(pipe, rec, case, refs, generator):
    """Recomputes every reference stage from the previous one (bitwise) and adds the derived keys
    edit.ref.<i>.latents.patchified, edit.ref.<i>.tokens, edit.ref.<i>.ids and the manifest entries."""
    t = rec.t
    n_refs = len(refs)
    m = 2 * pipe.vae_scale_factor  # 16: the multiple-of rule for reference sizes and the output size
    bn_mean = pipe.vae.bn.running_mean.view(1, -1, 1, 1)
    bn_std = torch.sqrt(pipe.vae.bn.running_var.view(1, -1, 1, 1) + pipe.vae.config.batch_norm_eps)
    start = 0
    per_ref = []
    for i, im in enumerate(refs):
        u8 = t[f"edit.ref.{i}.input.uint8"]
        w0, h0 = im.size
        area_resized = w0 * h0 > 1024 * 1024
        assert area_resized == (f"edit.ref.{i}.area_resized.uint8" in t)
        src = t[f"edit.ref.{i}.area_resized.uint8"] if area_resized else u8
        hs, ws = int(src.shape[0]), int(src.shape[1])
        h, w = hs // m * m, ws // m * m
        top, left = (hs - h) // 2, (ws - w) // 2
        cropped = t[f"edit.ref.{i}.cropped.uint8"]
        assert torch.equal(src[top:top + h, left:left + w], cropped)
        x = (cropped.float() / 255.0).permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0
        assert torch.equal(x, t[f"edit.ref.{i}.preprocessed"]) and torch.equal(x, t[f"edit.ref.{i}.vae.encode.in"])
        del t[f"edit.ref.{i}.preprocessed"]  # = edit.ref.<i>.vae.encode.in (float32 VAE): not stored twice
        mean = t[f"edit.ref.{i}.vae.encode.mean"]
        assert torch.equal(t[f"edit.ref.{i}.vae.encode.moments"][:, : mean.shape[1]], mean)
        patchified = pipe._patchify_latents(mean)
        rec.put(f"edit.ref.{i}.latents.patchified", patchified)
        normalized = t[f"edit.ref.{i}.latents.normalized"]
        assert torch.equal((patchified - bn_mean) / bn_std, normalized)
        _, c, lh, lw = normalized.shape
        tokens = normalized.reshape(1, c, lh * lw).permute(0, 2, 1)
        n = lh * lw
        assert torch.equal(t["edit.image_latents"][:, start:start + n], tokens)
        rec.put(f"edit.ref.{i}.tokens", tokens)
        hh, ww = torch.meshgrid(torch.arange(lh), torch.arange(lw), indexing="ij")
        ids = torch.stack([torch.full((n,), 10 + 10 * i), hh.reshape(-1), ww.reshape(-1), torch.zeros(n, dtype=torch.int64)], dim=1)
        ids = ids.unsqueeze(0)
        assert torch.equal(t["edit.image_latent_ids"][:, start:start + n], ids)
        rec.put(f"edit.ref.{i}.ids", ids)
        per_ref.append({"input_width": w0, "input_height": h0, "mode": im.mode, "area_resized": area_resized,
                        "cropped_width": w, "cropped_height": h, "crop_left": left, "crop_top": top,
                        "latent_height": int(mean.shape[2]), "latent_width": int(mean.shape[3]),
                        "token_grid_height": lh, "token_grid_width": lw, "tokens": n, "token_offset": start,
                        "t_coordinate": 10 + 10 * i})
        start += n
    assert start == t["edit.image_latents"].shape[1]

    # Output size: the first reference's (area-limited) size floored to multiples of 16.
    first = per_ref[0]
    height = case.get("height") or first["cropped_height"]
    width = case.get("width") or first["cropped_width"]
    assert rec.manifest["prepare_latents_height_width"] == [height, width]
    n_out = t["latents.packed"].shape[1]
    assert n_out == (height // m) * (width // m)

    # The transformer's inputs: [noise tokens | reference tokens] at every step, ids likewise;
    # the reference tokens never change; the scheduler gets the first n_out output tokens only.
    assert torch.equal(t["transformer.in.img_ids"], torch.cat([t["latent_ids"], t["edit.image_latent_ids"]], dim=1))
    assert torch.equal(t["step.0.transformer.in.hidden_states"], torch.cat([t["latents.packed"], t["edit.image_latents"]], dim=1))
    for s in range(case["steps"]):
        hs = t[f"step.{s}.transformer.in.hidden_states"]
        assert torch.equal(hs[:, n_out:], t["edit.image_latents"])
        if s > 0:
            assert torch.equal(hs[:, :n_out], t[f"step.{s - 1}.latents"])
        assert torch.equal(t[f"step.{s}.transformer.out"][:, :n_out], t[f"step.{s}.noise_pred"])
        assert t[f"step.{s}.transformer.out"].shape[1] == n_out + start

    # RNG: the reference encode takes the posterior mode (no draw): after the call the generator has
    # made exactly the noise draw.
    g = seeded_generator(case["seed"])
    assert torch.equal(torch.randn(t["noise"].shape, generator=g, dtype=torch.float32), t["noise"])
    assert torch.equal(g.get_state(), generator.get_state())

    for k in ("reference_modes", "reference_crops"):  # recorded by the hooks; "references" has both
        rec.manifest.pop(k)
    rec.manifest.update({
        "height": height, "width": width, "height_width_passed": case.get("height") is not None,
        "reference_images": case["reference_images"], "references": per_ref,
        "output_tokens": n_out, "reference_tokens": start, "transformer_tokens": n_out + start,
        "area_resize_examples": area_resize_examples(),
        "semantics": EDIT_SEMANTICS,
    })


def area_resize_examples():
    """Flux2ImageProcessor._resize_to_target_area's target sizes (and the crop after it) for some
    inputs over 1024*1024 pixels: no pixels (an area-limited reference is ~1 MP), only the rule."""
    out = []
    for w0, h0 in ((1025, 1024), (1200, 1000), (2048, 2048), (4000, 3000), (1920, 1080), (3000, 700), (1500, 1500)):
        s = math.sqrt(1024 * 1024 / (w0 * h0))
        w1, h1 = int(w0 * s), int(h0 * s)
        out.append({"input": [w0, h0], "resized": [w1, h1], "cropped": [w1 // 16 * 16, h1 // 16 * 16]})
    return out


EDIT_SEMANTICS = {
    "call": "Flux2KleinPipeline(image=[PIL.Image, ...], prompt, num_inference_steps, guidance_scale, "
            "generator=torch.Generator('cpu').manual_seed(seed), output_type='np'); height/width NOT passed in this case",
    "image_argument": "image=None: plain text-to-image. A single PIL image is wrapped into a list. No limit on the number of "
                      "images in the plain pipeline (5 tried: fine). image=[] fails (ValueError from torch.cat of an empty list "
                      "in _prepare_image_ids). Every element must be a PIL.Image (numpy arrays and tensors: ValueError "
                      "'Image must be a PIL.Image.Image, got ...', despite the docstring).",
    "checks": "Flux2ImageProcessor.check_image_input on every image first, on its ORIGINAL size: width < 64 or height < 64: "
              "ValueError 'Image too small: {w}×{h}. Both dimensions must be at least 64px'; max(w/h, h/w) > 8: ValueError "
              "'Aspect ratio too extreme: {w}×{h} (ratio: {r:.1f}:1). Maximum allowed ratio is 8:1'. Its max_area argument "
              "is unused (large images are downscaled, not refused).",
    "area_limit": "per image, if W*H > 1024*1024 (strictly): s = sqrt(1048576 / (W*H)) (Python float), w = int(W*s), h = int(H*s) "
                  "(truncation), img = img.resize((w, h), PIL LANCZOS) (reducing_gap None; on the image's own mode: RGBA is "
                  "resized premultiplied by Pillow, P/1 with NEAREST). See area_resize_examples. Not exercised by this case.",
    "multiple_of": "multiple_of = 2 * vae_scale_factor = 16 (vae_scale_factor = 2^(len(block_out_channels)-1) = 8); "
                   "w16 = w // 16 * 16, h16 = h // 16 * 16 (of the possibly area-resized size)",
    "crop": "image_processor.preprocess(img, height=h16, width=w16, resize_mode='crop'): Flux2ImageProcessor overrides "
            "_resize_and_crop with a pure CENTER CROP, no resampling at all: left = (w - w16) // 2, top = (h - h16) // 2, "
            "img.crop((left, top, left + w16, top + h16)). The aspect ratio is kept up to the < 16 px crop.",
    "to_tensor": "after the crop: img.convert('RGB') (do_convert_rgb=True: RGBA drops alpha WITHOUT compositing, L replicates, "
                 "P looks up the palette); float32 u8 / 255, NCHW [1, 3, h16, w16], then 2x - 1 (normalize); cast to the VAE dtype",
    "encode": "vae.encode(x) -> DiagonalGaussianDistribution(quant_conv(encoder(x))) (moments [1, 64, h16/8, w16/8]); "
              "retrieve_latents(sample_mode='argmax') = posterior MODE = mean = moments[:, :32] (no sampling, no logvar use, "
              "no scaling/shift factor); the generator is passed but never drawn from",
    "rng_order": "one generator: its only draw is the output noise randn([B, 128, H/16, W/16]) in prepare_latents (which runs "
                 "before the references are encoded anyway); the reference path consumes no randomness",
    "normalisation": "patchify 2x2 (channel c*4 + ph*2 + pw, as for the output latents) -> [1, 128, h16/16, w16/16]; then "
                     "(z - bn.running_mean) / sqrt(bn.running_var + batch_norm_eps) (eps 1e-4), per channel, float32",
    "packing": "per image: [1, 128, gh, gw] -> [1, gh*gw, 128] (row-major tokens); concatenated along the sequence in image-list "
               "order: image_latents [1, sum n_i, 128], repeated over the batch (B = batch_size * num_images_per_prompt)",
    "position_ids": "reference i (0-based): (t = 10 + 10*i, h = 0..gh-1, w = 0..gw-1, l = 0), row-major (cartesian_prod(t, h, w, l)); "
                    "the output tokens keep (0, h, w, 0) and the text (0, 0, 0, k); ids int64; the transformer uses only img_ids[0]",
    "transformer_input": "every step: hidden_states = cat([latents (output tokens), image_latents], dim=1), img_ids = "
                         "cat([latent_ids, image_latent_ids], dim=1); output tokens FIRST, references after (the KV pipeline "
                         "Flux2KleinKVPipeline puts them first instead); timestep = t/1000 for all tokens (same modulation for "
                         "reference and noisy tokens); text first inside the transformer as usual: RoPE over cat(txt_ids, img_ids)",
    "output_slice": "noise_pred = transformer(...)[0][:, :latents.size(1)]: the reference tokens' outputs are dropped before CFG "
                    "and the Euler step; the reference tokens themselves never change",
    "caching": "the plain pipeline recomputes the reference tokens through every block at every step (no KV cache; "
               "transformer.cache_context('cond'/'uncond') is only for optional caching hooks, none installed). "
               "Flux2KleinKVPipeline is the KV-cached variant (reference K/V extracted at step 0 with a fixed timestep 0).",
    "guidance": "CFG only when guidance_scale > 1 and not is_distilled (base models); the negative ('' or negative_prompt_embeds) "
                "pass gets the SAME hidden_states (with the reference tokens) and img_ids, only the text differs; both outputs "
                "are sliced to the output tokens, then neg + g*(pos - neg). Distilled: guidance ignored (warning if > 1).",
    "output_size": "height = height or h16 of the FIRST reference (after the area limit and the floor to 16), width likewise, "
                   "each independently (set in the loop over images, so only the first image counts); else 1024 x 1024 "
                   "(default_sample_size 128 * 8). Explicit sizes need not match any reference (references are encoded at "
                   "their own size whatever the output size); non-multiples of 16 warn and are floored (2 * (h // 16) latent rows).",
    "schedule": "mu = compute_empirical_mu(image_seq_len = number of OUTPUT tokens only, N): the references do not change the "
                "schedule",
}
