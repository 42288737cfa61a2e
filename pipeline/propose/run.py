"""``cadre propose``: every rush of a folder read once, stretches proposed, scored, and shown.

Per rush (read only, never copied): the probe, then the sound signals and the picture signals side
by side (one thread decodes the small picture while the audio is listened to), cached together by
the rush's content hash and the options; Whisper on the voiced passages only (cached per passage);
stretches (:mod:`pipeline.propose.stretches`) scored (:mod:`pipeline.propose.score`). The best
``count`` get thumbnails with faces masked and counted; ``proposals.json`` and ``proposals.html``
are written into the campaign folder, each written whole or not at all.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from natsort import natsorted, ns

from pipeline.core import cache
from pipeline.core.errors import CadreError
from pipeline.core.networks import load_network
from pipeline.core.version import __version__
from pipeline.faces.settings import load_settings as load_redaction
from pipeline.propose.accept import check_root, proposals_path
from pipeline.propose.listen import Sound, listen
from pipeline.propose.look import Picture, look
from pipeline.propose.options import ProposeOptions
from pipeline.propose.page import write_page
from pipeline.propose.score import people_reason, reasons, total
from pipeline.propose.stretches import motion_stretches, passages_of, speech_stretches
from pipeline.propose.thumbs import Thumbnailer, times
from pipeline.propose.words import heard, sentences
from pipeline.render import release_memory
from pipeline.source.config import load_settings
from pipeline.source.episode import VIDEO_EXTS
from pipeline.source.probe import probe
from pipeline.source.schema import masking_off

SIGNALS_VERSION = 1


@dataclass
class RushResult:
    file: str                       # path inside the rushes folder
    path: Path
    duration: float
    size: int
    mtime_ns: int
    sha256: str
    speech: bool
    note: str = ""
    proposals: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"file": self.file, "duration": round(self.duration, 2), "size": self.size, "mtime_ns": self.mtime_ns,
                "sha256": self.sha256, "speech": self.speech, "note": self.note}


def rush_files(root: Path) -> list[Path]:
    """The video files under ``root`` (sub-folders too, as cameras write them), in natural order."""
    if not root.is_dir():
        raise CadreError(root, "rushes folder not found (moved, renamed or unmounted?); pass the folder that holds "
                               "the rushes")
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTS
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    if not found:
        raise CadreError(root, "no video files in the rushes folder; pass the folder that holds the camera's "
                               f"files ({', '.join(sorted(VIDEO_EXTS))})")
    return natsorted(found, alg=ns.PATH | ns.IGNORECASE)


def _limits(networks: tuple[str, ...], options: ProposeOptions) -> tuple[float, float, float]:
    """Shortest and longest proposal, and the shortest a motion stretch may be, for these networks."""
    loaded = [load_network(n) for n in networks]
    lowest = max([n.min_duration_s for n in loaded] + [1.0])
    shortest = max(options.cut.min_seconds, lowest)
    longest = min([options.cut.max_seconds] + [n.max_duration_s for n in loaded])
    if shortest > longest:
        raise CadreError(", ".join(networks), f"no proposal can be {shortest:g} to {longest:g} s long for these "
                                              "networks together; propose for fewer networks at once (-n)")
    return shortest, longest, max(lowest, 5.0)


def _signals(path: Path, content: str, duration: float, options: ProposeOptions) -> tuple[Sound, Picture]:
    key = cache.make_key("propose-signals", SIGNALS_VERSION, content, options.signal_key())
    data = cache.load("propose", key)
    if data is not None:
        return Sound.from_dict(data["sound"]), Picture.from_dict(data["picture"])
    with ThreadPoolExecutor(1) as pool:
        picture = pool.submit(look, path, duration, options.look)
        sound = listen(path, options.listen)
        picture = picture.result()
    cache.store("propose", key, {"sound": sound.to_dict(), "picture": picture.to_dict()})
    return sound, picture


def _ident(stem: str, start: float, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "rush"
    ident = f"{base}-{int(start) // 60:02d}{int(start) % 60:02d}"
    n = 2
    while ident in taken:
        ident, n = f"{base}-{int(start) // 60:02d}{int(start) % 60:02d}-{n}", n + 1
    taken.add(ident)
    return ident


def analyse_rush(path: Path, root: Path, settings, options: ProposeOptions, limits, taken: set[str],
                 say=None) -> RushResult:
    info = probe(path)
    if info.duration <= 0:
        raise CadreError(path, "the rush has no duration; export it again or move it out of the rushes folder")
    st = path.stat()
    content = cache.file_hash(path)
    sound, picture = _signals(path, content, info.duration, options)
    voiced = passages_of(sound, options.cut.join_gap)
    words = heard(path, content, voiced, info.duration, settings.language, settings.asr) if voiced else []
    said = sentences(words, options.cut.pause_ends_sentence)
    shortest, longest, lowest = limits
    result = RushResult(str(path.relative_to(root)), path, info.duration, st.st_size, st.st_mtime_ns, content,
                        bool(words))
    if words:
        stretches = speech_stretches(words, said, sound, picture, info.duration, options.cut, shortest, longest)
    else:
        result.note = ("no speech heard" if sound.has_audio else "no audio") + ": proposed from motion and sound alone"
        stretches = motion_stretches(sound, picture, options.cut, options.look.moving, options.look.still_share,
                                     shortest, longest, lowest)
    stretches = [s for s in stretches if s.length >= lowest]     # a short rush: nothing a network takes
    glossary = tuple((settings.asr or {}).get("glossary", ()))
    for s in stretches:
        why = reasons(s, said, sound, picture, glossary, options.look.moving)
        result.proposals.append({
            "id": _ident(path.stem, s.start, taken), "rush": result.file, "start": s.start, "end": s.end,
            "basis": s.basis, "reasons": [r.to_dict() for r in why], "score": total(why),
            "sentences": [{"start": round(x.start, 2), "end": round(x.end, 2), "text": x.text}
                          for x in said if x.start >= s.start and x.end <= s.end],
            "display": [info.width, info.height]})
    if say:
        say(f"{result.file}: {len(result.proposals)} stretch(es)" + (f"; {result.note}" if result.note else ""))
    return result


@dataclass
class Proposals:
    rushes: Path
    campaign: Path
    networks: tuple[str, ...]
    results: list[RushResult]
    proposals: list[dict]
    page: Path
    data: Path


def propose(rushes: str | Path, campaign: str | Path | None = None, options: ProposeOptions | None = None,
            say=None) -> Proposals:
    """Propose episodes from every rush in the folder ``rushes``; write ``proposals.json`` and
    ``proposals.html`` into ``campaign`` (default: ``<rushes>-episodes`` beside it)."""
    options = options or ProposeOptions()
    root = Path(rushes).expanduser().resolve()
    out = Path(campaign).expanduser().resolve() if campaign else root.parent / f"{root.name}-episodes"
    files = rush_files(root)
    check_root(out, root)
    settings = load_settings(out / ".cadre-propose")      # campaign.toml's language, glossary, networks
    networks = options.networks or settings.networks
    limits = _limits(networks, options)
    redaction = load_redaction("mosaic" if masking_off(settings.redaction) else settings.redaction)
    thumbs = Thumbnailer(redaction)                      # the detector loads first: no page without it
    taken: set[str] = set()
    results = [analyse_rush(p, root, settings, options, limits, taken, say) for p in files]
    every = [p for r in results for p in r.proposals]
    chosen = sorted(every, key=lambda p: -p["score"])[:options.count]
    release_memory()          # Whisper's model and buffers are not needed for the pictures
    for p in chosen:
        rush = root / p["rush"]
        shots = [thumbs.take(rush, t, *p["display"]) for t in times(p["start"], p["end"], options.thumbnails)]
        p["thumbs"] = [t.to_dict() for t in shots]
        p["uris"] = [t.uri for t in shots]
        people = people_reason([t.faces for t in shots])
        if people is not None:
            p["reasons"].append(people.to_dict())
            p["score"] = round(p["score"] + people.points, 2)
    chosen.sort(key=lambda p: -p["score"])
    out.mkdir(parents=True, exist_ok=True)
    record = {"rushes": str(root), "campaign": str(out), "networks": list(networks),
              "limits": {"shortest": limits[0], "longest": limits[1]},
              "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cadre_version": __version__,
              "rush_files": [r.to_dict() for r in results],
              "proposals": [{k: v for k, v in p.items() if k not in ("uris", "display")} for p in chosen]}
    data = proposals_path(out)
    cache.write_shared_json(data, record)
    page = write_page(out, record, {p["id"]: p["uris"] for p in chosen})
    return Proposals(root, out, tuple(networks), results, record["proposals"], page, data)
