"""Issue 28, third hostile-input round, captions: a person's SRT timing is kept (item 6), and a
character outside the episode's script is a recognition error in a machine transcript but a stop,
naming the SRT file and line, in a person's text (items 7 and 8).

Each case builds its clip with ffmpeg, renders it for real and reads back the published files:
the sidecar cues, and the burned captions in the decoded pixels.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from pipeline.captions.ass import Measure, write_ass
from pipeline.captions.corrections import apply_corrections
from pipeline.captions.pacing import person_cue_warnings
from pipeline.captions.sidecars import write_sidecars
from pipeline.captions.styles import load_style
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.speech.engines.base import TranscribeOptions
from pipeline.speech.transcribe import cache_key
from pipeline.speech.transcript import Segment, Transcript, Word, json_text, parse_srt

FRAME = 1 / 30
W, H = 540, 960                      # the published 1080x1920 frames are read at half size


def clip(path: Path, seconds: float, hz: int = 440) -> Path:
    """A flat dark picture (any caption ink stands out) with a tone, H.264 + AAC."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-f", "lavfi", "-i", f"color=c=0x203040:s=640x360:r=30:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f={hz}:d={seconds}:sample_rate=48000", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def srt_of(cues: list[tuple[float, float, str]]) -> str:
    def ts(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
    return "\n".join(f"{i}\n{ts(a)} --> {ts(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1))


def episode(root: Path, seconds: float, srt: str | None, hz: int = 440, toml: str = "") -> Path:
    folder = root / "camp" / "ep"
    clip(folder / "1.mp4", seconds, hz)
    if srt is not None:
        (folder / "1.fr.srt").write_text(srt, "utf-8")
    (folder / "episode.toml").write_text('language = "fr"\nredaction = "none"\n' + toml, "utf-8")
    return folder


def render(folder: Path, out: Path):
    from pipeline.orchestrator import RenderOptions, render_episode

    events = []
    render_episode(folder, RenderOptions(networks=("youtube-shorts",), out_dir=out),
                   lambda kind, **data: events.append((kind, data)))
    return out / "ep" / "youtube-shorts", [d["message"] for k, d in events if k == "warning"]


def frames(video: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-i", str(video), "-vf", f"scale={W}:{H},format=gray",
                          "-f", "rawvideo", "pipe:"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W)


def ink(frame: np.ndarray, bare: np.ndarray) -> np.ndarray:
    """Columns holding caption ink (white text, black outline) against the flat picture."""
    return np.abs(frame.astype(int) - bare.astype(int)) > 40


def shown(frame, bare) -> bool:
    return int(ink(frame, bare).sum()) > 200


def ink_width(frame, bare) -> int:
    cols = ink(frame, bare).any(axis=0).nonzero()[0]
    return int(cols.max() - cols.min()) if len(cols) else 0


def sidecar(path: Path) -> list[tuple[float, float, str]]:
    return [(e.start / 1000, e.end / 1000, e.plaintext) for e in pysubs2.load(str(path))]


def test_a_person_s_two_cues_are_published_as_two_cues_at_their_times(tmp_path):
    folder = episode(tmp_path, 5.5, srt_of([(0.2, 2.4, "Bonjour à tous"), (2.5, 4.8, "et merci d'être là")]))
    out, _ = render(folder, tmp_path / "out")
    for name in ("ep.srt", "ep.vtt"):
        cues = sidecar(out / name)
        assert len(cues) == 2, (name, cues)
        for (a, b, _), (want_a, want_b) in zip(cues, [(0.2, 2.4), (2.5, 4.8)]):
            assert abs(a - want_a) <= FRAME and abs(b - want_b) <= FRAME, (name, cues)
    video = frames(out / "ep.mp4")
    bare = video[-1]                                             # 5.5 s: after the last cue
    at = lambda t: video[int(t * 30)]                            # noqa: E731  the frame shown at t
    for t in (0.2 + FRAME, 1.3, 2.4 - FRAME, 2.5 + FRAME, 3.6, 4.8 - FRAME):
        assert shown(at(t), bare), t
    for t in (0.2 - FRAME, 2.45, 4.8 + FRAME):                   # the 0.1 s gap stays empty
        assert not shown(at(t), bare), t


def test_a_dense_person_srt_is_burned_on_time_and_reported(tmp_path):
    """Cues 0.3 s apart (too short to read): at every moment the burned caption is the SRT's cue
    of that moment (cue k is k+1 letters 'l' wide), none is lost, the short ones are reported by
    file and line, and no sidecar cue ends after the video (the last cue runs past its end)."""
    n = 16
    cues = [(0.3 * k + 0.05, 0.3 * k + 0.3, "l" * (k + 1)) for k in range(n)] + [(5.3, 7.0, "fin")]
    folder = episode(tmp_path, 5.5, srt_of(cues))
    out, warnings = render(folder, tmp_path / "out")
    for name in ("ep.srt", "ep.vtt"):
        got = sidecar(out / name)
        assert [c[2] for c in got] == [c[2] for c in cues], name             # nothing dropped
        assert all(abs(a - c[0]) <= 0.002 for (a, _, _), c in zip(got, cues)), name    # no drift
        assert all(b <= nxt + 1e-6 for (_, b, _), (nxt, _, _) in zip(got, got[1:]))
        assert got[-1][1] <= 5.5 + 1e-6, got[-1]                            # not past the video
    (line,) = [w for w in warnings if "1.fr.srt" in w]
    assert "17 cue(s) too short" in line and "line 2 " in line
    video = frames(out / "ep.mp4")
    bare = video[0]                                              # 0 s: before the first cue
    style = load_style("social")
    m = Measure(style.font_path)
    step = (m.width("l" * n, style.size) - m.width("l", style.size)) / (n - 1) * W / 1080   # one 'l', half size
    widths = [ink_width(video[int((0.3 * k + 0.175) * 30)], bare) for k in range(n)]
    letters = [round((w - widths[0]) / step) + 1 for w in widths]
    assert letters == list(range(1, n + 1)), (letters, widths, step)


def test_ten_thousand_cues_neither_drift_nor_vanish(tmp_path):
    """A 10,000-cue person's SRT (one every 0.3 s), laid out as render does: the sidecar and the
    burned captions hold every cue at its own time, all reported too short, and none past the end."""
    cues = [(0.3 * k, 0.3 * k + 0.25, f"mot {k}") for k in range(10_000)]
    srt = tmp_path / "1.fr.srt"
    srt.write_text(srt_of(cues), "utf-8")
    words = apply_corrections(Transcript("fr"), parse_srt(srt.read_text("utf-8")), srt).words
    end = 0.3 * 9_999 + 0.1                                   # the video stops inside the last cue
    write_sidecars(words, tmp_path / "e.srt", tmp_path / "e.vtt", language="fr", duration=end)
    write_ass(words, load_style("social"), (40, 40, 40, 40), tmp_path / "e.ass", duration=end)
    for path in ("e.srt", "e.vtt", "e.ass"):
        got = [(e.start / 1000, e.end / 1000) for e in pysubs2.load(str(tmp_path / path))]
        assert len(got) == 10_000, path
        assert max(abs(a - c[0]) for (a, _), c in zip(got, cues)) <= 0.001, path
        assert got[-1][1] <= end + 1e-6, path
    (line,) = person_cue_warnings(words, end, 17, 1.0, FRAME)
    assert line.startswith(f"{srt}: 10000 cue(s) too short") and "line 2 (" in line


def machine_episode(root: Path, words: list[tuple[float, float, str]], toml: str = "") -> Path:
    """An episode whose machine transcript (what Whisper wrote, as ``cadre transcribe`` keeps it in
    the clip's JSON) holds ``words``; no SRT, so every word is the machine's."""
    folder = episode(root, 4.0, None, hz=587, toml=toml)
    path = folder / "1.mp4"
    ws = [Word(a, b, " " + t, 0.9) for a, b, t in words]
    transcript = Transcript("fr", [Segment(ws[0].start, ws[-1].end, " ".join(t for *_, t in words), ws)])
    key = cache_key(path, TranscribeOptions(language="fr"))
    (folder / "1.fr.json").write_text(json_text(transcript, {"key": key}), "utf-8")
    return folder


def test_a_hangul_syllable_whisper_wrote_in_french_is_a_recognition_error(tmp_path, monkeypatch):
    """... and a bleeped name Whisper wrote in another script is still bleeped, never just left out."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))   # the machine words are these ones
    folder = machine_episode(tmp_path, [(0.2, 0.5, "Il"), (0.5, 0.8, "a"), (0.8, 1.1, "dit"), (1.2, 1.4, "것"),
                                        (1.5, 1.9, "bonjour"), (2.0, 2.5, "mai것son"), (2.8, 3.3, "Иван")],
                             toml='bleep = ["Иван"]\nbleep_sound = "mute"\n')
    out, warnings = render(folder, tmp_path / "out")
    srt = (out / "ep.srt").read_text("utf-8")
    assert "것" not in srt and "bonjour" in srt and "maison" in srt
    assert "Иван" not in srt and "***" in srt
    (bleep,) = json.loads((out / "report.json").read_text("utf-8"))["redaction"]["bleeps"]["spans"]
    assert bleep["start"] <= 2.8 and bleep["end"] >= 3.3
    hangul = [w for w in warnings if "U+AC83" in w]
    assert len(hangul) == 2 and hangul[0].startswith("1.mp4 at 0:01.2:") and "'fr'" in hangul[0]
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert len([w for w in report["captions"]["caption_warnings"] if "U+AC83" in w]) == 2
    assert [f["word"] for f in report["spelling"]["low_confidence"]] == ["maison"]      # marked doubtful
    from pipeline.campaign.report import Row, fill_from_outputs

    row = fill_from_outputs(Row("ep", "youtube-shorts", "done"), tmp_path / "out", folder)
    assert len([w for w in row.warnings if "U+AC83" in w]) == 2                          # campaign.html lists them


@pytest.mark.parametrize("text, what", [("Il a dit 것 bonjour", "U+AC83"), ("Bonjour \u202emadame", "U+202E")])
def test_a_person_s_unburnable_text_stops_before_the_analysis_naming_the_srt_and_line(tmp_path, text, what):
    from pipeline.orchestrator import RenderOptions, render_episode

    folder = episode(tmp_path, 4.0, srt_of([(0.2, 1.5, "Bonjour"), (1.6, 3.5, text)]))
    events = []
    with pytest.raises(CadreError) as err:
        render_episode(folder, RenderOptions(networks=("youtube-shorts",), out_dir=tmp_path / "out"),
                       lambda kind, **data: events.append((kind, data)))
    assert err.value.path == str(folder / "1.fr.srt") and err.value.message.startswith("line 6: ")
    assert what in err.value.message and "font" not in str(err.value.path)
    assert not [d for k, d in events if k == "stage" and d.get("name") in ("analyse", "transcribe", "faces")]
    assert not (tmp_path / "out" / "ep").exists()
