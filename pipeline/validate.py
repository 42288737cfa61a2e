"""Stage 5: validate. Check a measured output against the master profile and a network's limits."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.core.networks import Network
from pipeline.report import PRIVATE_TAGS

LOUDNESS_TOLERANCE_LU = 1.0
PEAK_TOLERANCE_DB = 0.5


@dataclass
class Check:
    name: str
    ok: bool
    value: object
    expected: str

    def to_dict(self) -> dict:
        return asdict(self)


def check_output(m: dict, net: Network, profile: dict) -> list[Check]:
    v, a = m["video"], m["audio"]
    checks = [
        Check("duration", net.min_duration_s - 0.05 <= (m["duration_s"] or 0) <= net.max_duration_s + 0.05,
              m["duration_s"], f"{net.min_duration_s:g}-{net.max_duration_s:g} s"),
        Check("size", m["size_bytes"] <= net.max_size_mb * 1024 * 1024, m["size_bytes"], f"<= {net.max_size_mb:g} MB"),
        Check("resolution", (v["width"], v["height"]) == (net.width, net.height), f"{v['width']}x{v['height']}",
              f"{net.width}x{net.height}"),
        Check("sar", v["sar"] in ("1:1", "0:1"), v["sar"], "1:1"),
        Check("video_codec", v["codec"] == "h264" and v["profile"] == "High", f"{v['codec']} {v['profile']}", "h264 High"),
        Check("pix_fmt", v["pix_fmt"] == profile["pix_fmt"], v["pix_fmt"], profile["pix_fmt"]),
        Check("fps", v["fps"] is not None and abs(v["fps"] - net.fps) < 0.01, v["fps"], f"{net.fps} constant"),
        Check("faststart", m["faststart"], m["faststart"], "moov before mdat"),
        Check("metadata_scrubbed", not _private(m["metadata"]), sorted(_private(m["metadata"])), "no GPS or device tags"),
        Check("audio", a is not None and a["codec"] == "aac" and a["sample_rate"] == profile["audio_rate"]
              and a["channels"] == 2, a and f"{a['codec']} {a['sample_rate']} Hz {a['channels']} ch", "aac 48000 Hz 2 ch"),
    ]
    loud = m.get("loudness")
    if loud and not loud["silent"]:
        checks.append(Check("loudness", abs(loud["integrated_lufs"] - profile["loudness_lufs"]) <= LOUDNESS_TOLERANCE_LU,
                            loud["integrated_lufs"], f"{profile['loudness_lufs']} ± {LOUDNESS_TOLERANCE_LU} LUFS"))
        checks.append(Check("true_peak", loud["true_peak_dbtp"] <= profile["true_peak_dbtp"] + PEAK_TOLERANCE_DB,
                            loud["true_peak_dbtp"], f"<= {profile['true_peak_dbtp']} dBTP"))
    if net.needs_audio:
        checks.append(Check("has_sound", bool(loud) and not loud["silent"], not (loud or {}).get("silent", True),
                            "audible sound"))
    return checks


def _private(tags: dict) -> list[str]:
    return [k for k in tags if any(p in k.lower() for p in PRIVATE_TAGS)]
