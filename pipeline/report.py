"""Stage 6: report. Everything in ``report.json`` is read back from the written file."""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av

from pipeline.sound.loudness import measure_file

PRIVATE_TAGS = ("location", "gps", "make", "model", "device", "com.apple", "com.android", "creation_time",
                "author", "artist", "copyright", "comment")


def top_level_boxes(path: Path, limit: int = 8) -> list[str]:
    """Order of the first MP4 boxes (``moov`` before ``mdat`` means +faststart)."""
    boxes = []
    with open(path, "rb") as fh:
        while len(boxes) < limit:
            head = fh.read(8)
            if len(head) < 8:
                break
            size, kind = struct.unpack(">I4s", head)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, 1)
            elif size == 0:
                boxes.append(kind.decode("latin-1"))
                break
            else:
                fh.seek(size - 8, 1)
            boxes.append(kind.decode("latin-1"))
    return boxes


def measure_output(path: Path, target: dict) -> dict:
    """Duration, size, codecs, frame rate, loudness and metadata of a rendered MP4."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        tags = dict(c.metadata)
        for s in c.streams:
            tags.update({f"stream{s.index}:{k}": val for k, val in s.metadata.items()})
        sar = v.sample_aspect_ratio or Fraction(1, 1)
        info = {
            "file": path.name,
            "size_bytes": path.stat().st_size,
            "duration_s": round(float(c.duration / 1_000_000), 3) if c.duration else None,
            "video": {
                "codec": v.codec_context.name, "profile": v.profile, "pix_fmt": v.codec_context.pix_fmt,
                "width": v.codec_context.width, "height": v.codec_context.height,
                "sar": f"{sar.numerator}:{sar.denominator}",
                "fps": round(float(v.average_rate), 3) if v.average_rate else None,
                "frames": v.frames, "bitrate_kbps": round((v.bit_rate or 0) / 1000),
            },
            "audio": None if a is None else {
                "codec": a.codec_context.name, "sample_rate": a.codec_context.sample_rate,
                "channels": a.codec_context.channels, "bitrate_kbps": round((a.bit_rate or 0) / 1000),
            },
            "metadata": {k: v for k, v in tags.items() if k.split(":")[-1] not in ("language", "vendor_id")},
            "faststart": _faststart(path),
        }
    if a is not None:
        loud = measure_file(path, target)
        info["loudness"] = {"integrated_lufs": loud.integrated, "true_peak_dbtp": loud.true_peak,
                            "lra_lu": loud.lra, "silent": loud.silent}
    return info


def _faststart(path: Path) -> bool:
    boxes = top_level_boxes(path)
    return "moov" in boxes and ("mdat" not in boxes or boxes.index("moov") < boxes.index("mdat"))
