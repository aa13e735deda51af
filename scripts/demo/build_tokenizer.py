#!/usr/bin/env python3
"""The demo model's tokenizer: byte-level BPE (Qwen2 format, Qwen3's added tokens and chat
template) learned with the reference toolkit's own learner on every caption of the grammar.

Usage: python build_tokenizer.py OUT_DIR   (the pinned reference venv)
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "reference"))

import scenes  # noqa: E402
import tokenizers_build as tb  # noqa: E402

if __name__ == "__main__":
    corpus = "\n".join(scenes.all_captions()[::7]) + "\n"
    vocab, merges = tb.learn_bpe(corpus, 200)
    tok = tb.make_tokenizer(vocab, merges)
    tok.save_pretrained(sys.argv[1])
    sample = "a purple triangle at the bottom right and a white circle in the center on a black background"
    print(f"vocabulary {len(tok)}; '{sample}' -> {len(tok(sample).input_ids)} tokens")
