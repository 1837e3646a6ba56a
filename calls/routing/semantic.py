"""The small semantic model: WordLlama "l2_supercat" (256-dim static token embeddings, 16 MB).

It ships inside the `wordllama` wheel, so nothing is downloaded. WordLlama.load() looks for the
tokenizer in a folder the wheel does not have and would then try the Hugging Face hub, so we
point `cache_dir` at the package itself (where weights/ and tokenizers/ are) and disable
downloads: a missing file is an error, never a network call. Loaded once per process, lazily.
"""

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

_lock = threading.Lock()
_model = None


def model():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import wordllama

                _model = wordllama.WordLlama.load(
                    cache_dir=Path(wordllama.__file__).parent, disable_download=True
                )
    return _model


@lru_cache(maxsize=8192)
def _embed_one(text: str) -> np.ndarray:
    vector = model().embed([text], norm=True)[0]
    vector.setflags(write=False)
    return vector


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors, one row per text (cached per text: job texts repeat across turns)."""
    if not texts:
        return np.zeros((0, 256), dtype=np.float32)
    return np.vstack([_embed_one(t) for t in texts])
