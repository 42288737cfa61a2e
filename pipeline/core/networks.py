"""Network presets (``presets/networks/*.toml``) and the shared master profile."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from pipeline.core.errors import CadreError
from pipeline.core.resources import (
    data_dir,
    load_preset,
    load_toml,
    preset_names,
    preset_path,
)


@dataclass(frozen=True)
class SafeZone:
    """Pixels of the 1080x1920 frame covered by the app's own interface."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0

    def union(self, other: "SafeZone") -> "SafeZone":
        return SafeZone(max(self.top, other.top), max(self.bottom, other.bottom),
                        max(self.left, other.left), max(self.right, other.right))

    def margins(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), the order the caption layout takes."""
        return self.left, self.top, self.right, self.bottom


@dataclass(frozen=True)
class Network:
    name: str
    title: str
    width: int
    height: int
    fps: int
    video_bitrate_max_kbps: int
    audio_bitrate_kbps: int
    min_duration_s: float
    max_duration_s: float
    max_size_mb: float
    needs_audio: bool
    safe_zone: SafeZone

    def to_dict(self) -> dict:
        return asdict(self)


def network_names() -> list[str]:
    return preset_names("networks")


def load_network(name: str) -> Network:
    raw = dict(load_preset("networks", name))
    raw.pop("post", None)   # the post's limits: read by pipeline/post/model.py (load_limits)
    path = preset_path("networks", name)
    expected = {f.name for f in fields(Network)}
    unknown = set(raw) - expected
    missing = expected - set(raw) - {"safe_zone"}
    if unknown or missing:
        raise CadreError(path, f"keys {sorted(unknown)} unknown / {sorted(missing)} missing; allowed: {sorted(expected)}")
    raw["safe_zone"] = SafeZone(**raw.get("safe_zone", {}))
    return Network(**raw)


def load_networks(names: list[str]) -> list[Network]:
    return [load_network(n) for n in dict.fromkeys(names)]


def combined_safe_zone(networks: list[Network]) -> SafeZone:
    """The margins every chosen network leaves free, so one master serves them all."""
    zone = SafeZone()
    for net in networks:
        zone = zone.union(net.safe_zone)
    return zone


def master_profile() -> dict:
    return load_toml(data_dir("presets") / "master.toml")
