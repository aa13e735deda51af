#!/usr/bin/env python3
"""The Qwen pre-tokenizer's splits as Hugging Face `tokenizers` computes them
(`pre_tokenizers.Split(Regex(QWEN_PATTERN), "isolated")`), for the Swift port's tests: a list of
inputs (ASCII, punctuation runs, whitespace and newlines of every kind, contractions and case
folding, digits, CJK, combining marks, emoji, other scripts) with the pieces `tokenizers` gives.

Usage: scripts/reference/.venv/bin/python scripts/reference/make_pretokenizer_fixtures.py
Writes Packages/Tokenizers/Tests/TokenizersTests/Fixtures/pretokenizer.json.
"""
import json
import os

import tokenizers
from tokenizers import Regex, pre_tokenizers

PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
INPUTS = [
    "Hello, world!", "I'M here, they're", "2026 cats", "a  b", "a \n\n b", "end   ", "x\r\ny", "...!?\n", " ...a", "\tword",
    "猫が好き", "e\u0301", "it'\u017f", "WE'LL see, I'D say", "don't", "O'Neil's", "'s", "''", "a'b'c",
    "   leading", "trailing\n", "\n\n\n", " \t \n x", "tab\there", "mixed\u00a0nbsp", "zero\u200bwidth",
    "3.14159", "1,000,000", "x²+y³", "١٢٣ arabic digits", "Ⅻ roman", "①②",
    "emoji 🦊🔥 fox", "👩‍👩‍👧 family", "flag 🇫🇷", "Привет, мир", "Γειά σου", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया",
    "한국어 텍스트", "ไทย", "Ünïcödé", "ǅungla", "İstanbul ıi", "straße", "ﬁne ligature", "A\u030aring",
    "<|im_start|>user\na cat<|im_end|>", "path/to/file.txt", "email@example.com", "C++ & C#", "$100.00!!", "--flag=value",
    "a\u2028b\u2029c", "x\u0085y", "\u000bvt\u000cff", "", " ", "a",
]


def main():
    pre = pre_tokenizers.Split(Regex(PATTERN), "isolated")
    cases = [{"input": s, "pieces": [p for p, _ in pre.pre_tokenize_str(s)]} for s in INPUTS]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Packages", "Tokenizers", "Tests", "TokenizersTests",
                       "Fixtures", "pretokenizer.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"tokenizers": tokenizers.__version__, "pattern": PATTERN, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(len(cases), "cases, tokenizers", tokenizers.__version__)


if __name__ == "__main__":
    main()
