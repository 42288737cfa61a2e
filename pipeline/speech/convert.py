"""Convert a CTranslate2 Whisper model (``model.bin``) to an openai-whisper checkpoint.

The CT2 file is a flat list of named tensors. openai-whisper's ``Whisper`` module holds the same
tensors under other names, with two differences: CT2 fuses the query/key/value projections of
self-attention (and key/value of cross-attention) into one matrix, and openai-whisper's key
projection has no bias (CT2 stores zeros there). Everything else is a rename.

Binary layout of ``model.bin`` (little-endian), as written by CTranslate2's ``ModelSpec``:
``u32 version, str spec_name, u32 revision, u32 n_vars, n_vars x (str name, u8 rank,
u32 dims[rank], u8 dtype, u32 n_bytes, bytes), u32 n_aliases, n_aliases x (str alias, str name)``
where ``str`` is ``u16 length (with NUL), bytes, NUL``.
"""
from __future__ import annotations

import io
import json
import mmap
import re
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.core.cache import atomic_write_bytes
from pipeline.core.errors import CadreError

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}  # 5 = bfloat16


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def unpack(self, fmt: str):
        value = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0] if len(value) == 1 else value

    def string(self) -> str:
        n = self.unpack("H")
        text = bytes(self.buf[self.pos:self.pos + n - 1]).decode("utf-8")
        self.pos += n
        return text


def ct2_spec_name(model_bin: Path) -> str:
    """The spec name in a CT2 ``model.bin`` header (``WhisperSpec`` for Whisper models)."""
    with open(model_bin, "rb") as fh:
        head = fh.read(4096)
    try:
        r = _Reader(head)
        r.unpack("I")
        return r.string()
    except (struct.error, UnicodeDecodeError):
        return ""


def read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """All tensors of a CT2 model file, by name (aliases resolved). Arrays view a memory map."""
    fh = open(model_bin, "rb")
    buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    r = _Reader(buf)
    try:
        version = r.unpack("I")
        spec = r.string()
        r.unpack("I")  # spec revision
        if spec != "WhisperSpec" or version < 5:
            raise CadreError(model_bin, f"not a CTranslate2 Whisper model (spec {spec!r}, format {version})")
        tensors: dict[str, np.ndarray] = {}
        for _ in range(r.unpack("I")):
            name = r.string()
            dims = [r.unpack("I") for _ in range(r.unpack("B"))]
            dtype_id = r.unpack("B")
            nbytes = r.unpack("I")
            if dtype_id not in _DTYPES:
                raise CadreError(model_bin, f"tensor {name} has a type (id {dtype_id}) the converter does not handle")
            tensors[name] = np.frombuffer(buf, _DTYPES[dtype_id], nbytes // np.dtype(_DTYPES[dtype_id]).itemsize,
                                          r.pos).reshape(dims)
            r.pos += nbytes
        for _ in range(r.unpack("I")):
            alias, target = r.string(), r.string()
            tensors[alias] = tensors[target]
    except struct.error:
        raise CadreError(model_bin, "model file is truncated; reinstall the model") from None
    return tensors


@dataclass(frozen=True)
class Dims:
    """openai-whisper's ``ModelDimensions``, read off the tensor shapes."""

    n_mels: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_vocab: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int


def _layers(t: dict, prefix: str) -> int:
    return len({k.split("/")[1] for k in t if re.match(rf"{prefix}/layer_\d+/", k)})


def dims_of(t: dict[str, np.ndarray]) -> Dims:
    return Dims(
        n_mels=t["encoder/conv1/weight"].shape[1],
        n_audio_ctx=t["encoder/position_encodings/encodings"].shape[0],
        n_audio_state=t["encoder/conv1/weight"].shape[0],
        n_audio_head=int(t["encoder/num_heads"]),
        n_audio_layer=_layers(t, "encoder"),
        n_vocab=t["decoder/embeddings/weight"].shape[0],
        n_text_ctx=t["decoder/position_encodings/encodings"].shape[0],
        n_text_state=t["decoder/embeddings/weight"].shape[1],
        n_text_head=int(t["decoder/num_heads"]),
        n_text_layer=_layers(t, "decoder"),
    )


def _attention(out: dict, src: str, dst: str, t: dict, fused: int) -> None:
    """Split a fused CT2 projection into openai-whisper's query/key/value/out linears.

    ``fused=3``: self-attention, ``linear_0`` holds q, k, v and ``linear_1`` is the output.
    ``fused=2``: cross-attention, ``linear_0`` is q, ``linear_1`` holds k, v, ``linear_2`` the output.
    """
    names = ("query", "key", "value")
    if fused == 3:
        w, b = np.split(t[f"{src}/linear_0/weight"], 3), np.split(t[f"{src}/linear_0/bias"], 3)
        out_idx = 1
    else:
        kw, kb = np.split(t[f"{src}/linear_1/weight"], 2), np.split(t[f"{src}/linear_1/bias"], 2)
        w = [t[f"{src}/linear_0/weight"], *kw]
        b = [t[f"{src}/linear_0/bias"], *kb]
        out_idx = 2
    for name, wi, bi in zip(names, w, b):
        out[f"{dst}.{name}.weight"] = wi
        if name != "key":  # openai-whisper's key projection has no bias (CT2 stores zeros)
            out[f"{dst}.{name}.bias"] = bi
    out[f"{dst}.out.weight"] = t[f"{src}/linear_{out_idx}/weight"]
    out[f"{dst}.out.bias"] = t[f"{src}/linear_{out_idx}/bias"]


def _norm(out: dict, src: str, dst: str, t: dict) -> None:
    out[f"{dst}.weight"] = t[f"{src}/gamma"]
    out[f"{dst}.bias"] = t[f"{src}/beta"]


def _ffn(out: dict, src: str, dst: str, t: dict) -> None:
    _norm(out, f"{src}/layer_norm", f"{dst}.mlp_ln", t)
    for i, j in ((0, 0), (1, 2)):
        out[f"{dst}.mlp.{j}.weight"] = t[f"{src}/linear_{i}/weight"]
        out[f"{dst}.mlp.{j}.bias"] = t[f"{src}/linear_{i}/bias"]


def state_dict_of(t: dict[str, np.ndarray], dims: Dims) -> dict[str, np.ndarray]:
    """openai-whisper state dict (numpy arrays) from CT2 tensors."""
    out: dict[str, np.ndarray] = {
        "encoder.positional_embedding": t["encoder/position_encodings/encodings"],
        "decoder.positional_embedding": t["decoder/position_encodings/encodings"],
        "decoder.token_embedding.weight": t["decoder/embeddings/weight"],
    }
    for conv in ("conv1", "conv2"):
        out[f"encoder.{conv}.weight"] = t[f"encoder/{conv}/weight"]
        out[f"encoder.{conv}.bias"] = t[f"encoder/{conv}/bias"]
    _norm(out, "encoder/layer_norm", "encoder.ln_post", t)
    _norm(out, "decoder/layer_norm", "decoder.ln", t)
    for i in range(dims.n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _attention(out, f"{src}/self_attention", f"{dst}.attn", t, 3)
        _norm(out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", t)
        _ffn(out, f"{src}/ffn", dst, t)
    for i in range(dims.n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _attention(out, f"{src}/self_attention", f"{dst}.attn", t, 3)
        _norm(out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", t)
        _attention(out, f"{src}/attention", f"{dst}.cross_attn", t, 2)
        _norm(out, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln", t)
        _ffn(out, f"{src}/ffn", dst, t)
    return out


def alignment_heads_of(model_dir: Path) -> list[list[int]]:
    """The (layer, head) pairs used for word timing, from the CT2 ``config.json``."""
    try:
        return json.loads((model_dir / "config.json").read_text("utf-8")).get("alignment_heads") or []
    except (OSError, ValueError):
        return []


def convert(model_dir: Path, out_file: Path) -> None:
    """Write an openai-whisper checkpoint (``torch.save``) converted from ``model_dir/model.bin``.

    The checkpoint has openai-whisper's two keys, ``dims`` and ``model_state_dict`` (tensors keep
    the CT2 file's precision, float16 for the published models; ``load_state_dict`` widens them
    to the float32 the CPU model runs in), plus ``alignment_heads`` taken from the CT2 config.
    """
    import torch

    tensors = read_ct2(model_dir / "model.bin")
    dims = dims_of(tensors)
    state = {k: torch.from_numpy(np.array(v)) for k, v in state_dict_of(tensors, dims).items()}
    if any(not torch.is_floating_point(t) for t in state.values()):
        raise CadreError(model_dir / "model.bin", "quantized (int8) CT2 models cannot be converted for openai-whisper; "
                                                  "import the float16 or float32 model instead")
    checkpoint = {"dims": asdict(dims), "model_state_dict": state,
                  "alignment_heads": alignment_heads_of(model_dir)}
    blob = io.BytesIO()
    torch.save(checkpoint, blob)
    atomic_write_bytes(out_file, blob.getvalue())
