"""Make the CenterFace ONNX file's input and output sizes free, in memory, for onnxruntime.

The file declares a fixed 10x3x32x32 input; onnxruntime refuses any other size, and the usual fix
(``onnx.tools.update_model_dims``) needs the ``onnx`` package. The change is small enough to do on
the protobuf wire format directly: the graph's input ``input.1`` and its four outputs get named
dimensions (``N, 3, H, W`` and ``N, C, h, w``), and the weights listed again as graph inputs (an
old exporter's habit) are dropped from the inputs, so onnxruntime may fold the batch norms into
the convolutions. The weights themselves are copied byte for byte: the pinned file is what runs.
"""
from __future__ import annotations

# field numbers of onnx.proto: ModelProto.graph, GraphProto.input/output, ValueInfoProto.name/type,
# TypeProto.tensor_type, TypeProto.Tensor.shape, TensorShapeProto.dim, Dimension.dim_param
GRAPH, INPUT, OUTPUT, NAME, TYPE, TENSOR, SHAPE, DIM, DIM_PARAM = 7, 11, 12, 1, 2, 1, 2, 1, 2
INITIALIZER, TENSOR_NAME = 5, 8     # GraphProto.initializer, TensorProto.name


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _enc_varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def _fields(buf: bytes):
    """``(field number, payload or None, raw bytes)`` of each field of one message."""
    i = 0
    while i < len(buf):
        start = i
        tag, i = _varint(buf, i)
        kind = tag & 7
        payload = None
        if kind == 0:
            _, i = _varint(buf, i)
        elif kind == 1:
            i += 8
        elif kind == 5:
            i += 4
        elif kind == 2:
            n, j = _varint(buf, i)
            i = j + n
            payload = buf[j:i]
        else:
            raise ValueError(f"unsupported protobuf wire type {kind}")
        if i > len(buf):
            raise ValueError("truncated protobuf message")
        yield tag >> 3, payload, buf[start:i]


def _message(num: int, payload: bytes) -> bytes:
    return _enc_varint(num << 3 | 2) + _enc_varint(len(payload)) + payload


def _first(buf: bytes, num: int) -> bytes | None:
    return next((p for f, p, _ in _fields(buf) if f == num), None)


def _free_dims(value_info: bytes, names: list[str | None]) -> bytes:
    """The value info with dimension ``k`` renamed ``names[k]`` (None keeps the fixed size)."""
    out = b""
    for f, payload, raw in _fields(value_info):
        if f != TYPE:
            out += raw
            continue
        tensor = _first(payload, TENSOR)
        if tensor is None:
            raise ValueError("graph input or output is not a tensor")
        new = b""
        for f2, p2, r2 in _fields(tensor):
            if f2 != SHAPE:
                new += r2
                continue
            dims = [p for f3, p, _ in _fields(p2) if f3 == DIM]
            if len(dims) != len(names):
                raise ValueError(f"expected {len(names)} dimensions, found {len(dims)}")
            new += _message(SHAPE, b"".join(_message(DIM, _message(DIM_PARAM, n.encode()) if n else d)
                                            for d, n in zip(dims, names)))
        out += _message(TYPE, _message(TENSOR, new))
    return out


def free_input_size(model: bytes, input_name: str, outputs: list[str]) -> bytes:
    """``model`` (ONNX bytes) with free batch and spatial sizes on ``input_name`` and ``outputs``.
    Raises ValueError if the file is not laid out as expected."""
    out, seen = b"", set()
    for f, payload, raw in _fields(model):
        if f != GRAPH:
            out += raw
            continue
        graph = b""
        weights = {(_first(p2, TENSOR_NAME) or b"").decode() for f2, p2, _ in _fields(payload) if f2 == INITIALIZER}
        for f2, p2, r2 in _fields(payload):
            name = (_first(p2, NAME) or b"").decode() if f2 in (INPUT, OUTPUT) else None
            if f2 == INPUT and name != input_name and name in weights:
                continue                                  # a weight listed as an input
            if f2 == INPUT:
                r2 = _message(INPUT, _free_dims(p2, ["N", None, "H", "W"]))
            elif f2 == OUTPUT and name in outputs:
                r2 = _message(OUTPUT, _free_dims(p2, ["N", None, "h", "w"]))
            seen.add(name)
            graph += r2
        out += _message(GRAPH, graph)
    missing = {input_name, *outputs} - seen
    if missing:
        raise ValueError(f"model has no {', '.join(sorted(missing))}")
    return out
