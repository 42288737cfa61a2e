"""Issue 19, the second hostile-input round: every file a unit might throw at Cadre.

Each case is generated small (ffmpeg test sources, a few bytes of Python) and checked for the
contract: exit code, exactly one ``cadre: error:`` line naming the file and the fix, no traceback,
nothing published, sources byte-identical.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.core.errors import CadreError
from tests.conftest import make_clip, tree_hashes

CADRE = [sys.executable, "-m", "pipeline.cli"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def error_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("cadre: error:")]


def assert_one_error(result, *needles: str, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output, result.output
    lines = error_lines(result.output)
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def assert_nothing_published(folder: Path, before: dict, out: Path | None = None):
    assert tree_hashes(folder) == before, "source folder changed"
    exports = out or folder.parent / "exports"
    assert not exports.exists() or not any(exports.rglob("*.mp4")), "partial output left behind"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    """One small 4 s clip (long enough for every network), generated once for the module."""
    return make_clip(tmp_path_factory.mktemp("media") / "c.mp4", size="320x180", duration=4.0).read_bytes()


@pytest.fixture
def episode(tmp_path, clip_bytes) -> Path:
    folder = tmp_path / "camp" / "ep"
    folder.mkdir(parents=True)
    (folder / "1.mp4").write_bytes(clip_bytes)
    return folder


def render(folder: Path, *extra):
    return cli("render", folder, "-n", "youtube-shorts", "--captions", "none", *extra)


# -- 1. text files that are not UTF-8 ------------------------------------------------------------
LEGACY = 'title = "Opération tranquillité"\n'.encode("cp1252")
NOT_UTF8 = {
    "cp1252": LEGACY,
    "mac-roman": 'title = "Opération"\n'.encode("mac_roman"),
    "utf16-no-bom": 'title = "x"\n'.encode("utf-16-le"),
    "binary": bytes(range(256)),
    "nul-in-utf8": b'title = "a\x00b"\n',
}


@pytest.mark.parametrize("name", ["episode.toml", "masks.toml", "campaign.toml"])
@pytest.mark.parametrize("kind", sorted(NOT_UTF8))
def test_text_file_not_utf8(episode, name, kind):
    data = NOT_UTF8[kind]
    if name == "masks.toml" and kind in ("cp1252", "mac-roman"):
        data = data.replace(b"title", b"# note")      # a comment: masks.toml has no title key
    target = (episode.parent if name == "campaign.toml" else episode) / name
    target.write_bytes(data)
    before = tree_hashes(episode.parent)
    line = assert_one_error(render(episode), name, "save it as UTF-8")
    assert "line " in line or "is marked as" in line
    assert tree_hashes(episode.parent) == before
    assert_nothing_published(episode, tree_hashes(episode))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_text_file_with_bom_is_read(episode, encoding):
    from pipeline.source.config import load_settings

    (episode / "episode.toml").write_bytes('title = "Opération"\n'.encode(encoding))
    assert load_settings(episode).title == "Opération"


def test_legacy_line_is_named(episode):
    (episode / "episode.toml").write_bytes(b'language = "fr"\n\ntitle = "\xe9t\xe9"\n')
    assert_one_error(render(episode), "episode.toml: line 3: byte 0xe9 is not UTF-8", "save it as UTF-8")


def test_batch_bad_episode_toml_fails_that_episode_only(tmp_path, clip_bytes):
    campaign = tmp_path / "camp"
    for name in ("a", "b"):
        (campaign / name).mkdir(parents=True)
        (campaign / name / "1.mp4").write_bytes(clip_bytes)
    (campaign / "a" / "episode.toml").write_bytes(LEGACY)
    before = tree_hashes(campaign)
    result = cli("batch", campaign, "-n", "youtube-shorts", "--captions", "none", "--redact", "none")
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert "episode.toml: line 1" in result.output and "save it as UTF-8" in result.output, result.output
    assert (campaign / "exports" / "b" / "youtube-shorts" / "b.mp4").is_file()
    assert not (campaign / "exports" / "a" / "youtube-shorts").exists()
    assert {k: v for k, v in tree_hashes(campaign).items() if not k.startswith("exports")} == before


def test_review_refuses_non_utf8_masks(episode):
    from pipeline.review import edits

    masks = episode / "masks.toml"
    masks.write_bytes(b"# r\xe9gion\n")
    with pytest.raises(CadreError, match="line 1: byte 0xe9 is not UTF-8"):
        edits.add_mask(masks, "1.mp4", [0.1, 0.1, 0.5, 0.5], 0.0, 1.0, "x", check=lambda: None)
    assert masks.read_bytes() == b"# r\xe9gion\n"


# -- 3. nan and inf in TOML ----------------------------------------------------------------------
NON_FINITE_TOML = {
    "focus-nan": ("episode.toml", "focus = [nan, nan]\n", "focus #1"),
    "clip-start-inf": ("episode.toml", 'clips = [{file = "1.mp4", start = inf}]\n', "clips #1.start"),
    "clip-end-neg-inf": ("episode.toml", 'clips = [{file = "1.mp4", end = -inf}]\n', "clips #1.end"),
    "span-start-nan": ("episode.toml", '[[reframe_spans]]\nclip = "1.mp4"\nstart = nan\nstrategy = "fit"\n',
                       "reframe_spans #1.start"),
    "campaign-focus": ("campaign.toml", "focus = [0.5, +nan]\n", "focus #2"),
    "mask-start-nan": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = nan\n', "mask #1.start"),
    "mask-end-inf": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.5, 0.5]\nend = inf\n',
                     "mask #1.end"),
    "mask-region-nan": ("masks.toml", '[[mask]]\nclip = "1.mp4"\nregion = [0.1, nan, 0.5, 0.5]\n',
                        "mask #1.region #2"),
}


@pytest.mark.parametrize("case", sorted(NON_FINITE_TOML))
def test_non_finite_number_in_toml(episode, case):
    name, text, key = NON_FINITE_TOML[case]
    (episode.parent if name == "campaign.toml" else episode).joinpath(name).write_text(text)
    before = tree_hashes(episode)
    assert_one_error(render(episode), name, f"key '{key}'", "write a finite number")
    assert_nothing_published(episode, before)


# -- 2. a caption file a person broke -----------------------------------------------------------
GOOD_CUE = "1\n00:00:00,500 --> 00:00:01,500\nBonjour à tous\n\n"
BROKEN_SRT = {
    "bad-timing-arrow": (GOOD_CUE + "2\n00:00:02,000 -> 00:00:03,000\nmerci\n", "line 5"),
    "bad-timing-garbage": (GOOD_CUE + "2\n00:00:02,000 --> demain\nmerci\n", "line 6"),
    "negative-time": (GOOD_CUE + "2\n-00:00:02,000 --> 00:00:03,000\nmerci\n", "line 6"),
    "inverted-times": (GOOD_CUE + "2\n00:00:04,000 --> 00:00:03,000\nmerci\n", "line 6"),
    "missing-blank-line": ("1\n00:00:00,500 --> 00:00:01,500\nBonjour\n2\n00:00:02,000 --> 00:00:03,000\nmerci\n",
                           "line 5"),
    "text-without-timing": ("Bonjour à tous, merci\n", "line 1"),
    "binary": (bytes(range(256)) * 4, "save it as UTF-8"),
    "utf16-no-bom": (GOOD_CUE.encode("utf-16-le"), "save it as UTF-8"),
    "cp1252": (GOOD_CUE.encode("cp1252"), "line 3: byte 0xe0 is not UTF-8"),
}


def _write(path: Path, content) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize("case", sorted(BROKEN_SRT))
def test_broken_srt_is_one_line_naming_the_line(tmp_path, case):
    from pipeline.captions.corrections import human_cues

    content, needle = BROKEN_SRT[case]
    srt = _write(tmp_path / "1.fr.srt", content)
    with pytest.raises(CadreError) as info:
        human_cues(srt)
    line = str(info.value)
    assert line.startswith(str(srt)) and needle in line and "\n" not in line, line


@pytest.mark.parametrize("case", ["bad-timing-arrow", "utf16-no-bom", "inverted-times"])
def test_render_never_drops_a_broken_srt(tmp_path, monkeypatch, case):
    """The render path (clip_transcript) fails with the file and line, never publishes without captions."""
    from pipeline.captions import corrections
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.transcript import Segment, Transcript, Word

    machine = Transcript("fr", [Segment(0.5, 1.5, "Bonjour à tous",
                                        [Word(0.5, 0.8, " Bonjour"), Word(0.8, 1.0, " à"), Word(1.0, 1.5, " tous")])])
    monkeypatch.setattr(corrections, "machine_transcript", lambda *args, **kwargs: (machine, True))
    clip = tmp_path / "1.mp4"
    clip.write_bytes(b"")
    content, needle = BROKEN_SRT[case]
    srt = _write(tmp_path / "1.fr.srt", content)
    with pytest.raises(CadreError, match=needle):
        corrections.clip_transcript(clip, TranscribeOptions(language="fr"))
    assert srt.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_srt_utf16_with_bom_is_read(tmp_path):
    from pipeline.captions.corrections import human_cues

    srt = _write(tmp_path / "1.fr.srt", GOOD_CUE.encode("utf-16"))
    assert [c.text for c in human_cues(srt)] == ["Bonjour à tous"]


def test_empty_srt_has_no_cues(tmp_path):
    from pipeline.captions.corrections import human_cues

    assert human_cues(_write(tmp_path / "1.fr.srt", "\n\n")) == []


def test_review_api_refuses_non_finite_numbers(tmp_path):
    from pipeline.review import edits

    for bad in (math.nan, math.inf, -math.inf, 1e300, -1.0, True, "3"):
        with pytest.raises(CadreError, match=r"^1\.fr\.srt: key 'cues #1\.end': .* it must be between 0 and 86400$"):
            edits.parse_cues([{"start": 0.0, "end": bad, "text": "x"}], "1.fr.srt")
    with pytest.raises(CadreError, match="fractions of the frame"):
        edits.region([0.1, math.nan, 0.5, 0.5])
    masks = tmp_path / "masks.toml"
    with pytest.raises(CadreError):
        edits.add_mask(masks, "1.mp4", None, math.nan, None, "", check=lambda: None, whole_frame=True)
    assert not masks.exists()


def test_review_server_json_constants_and_size():
    """What Starlette hands the endpoint: NaN/Infinity, deep nesting and a huge body are 4xx."""
    import asyncio

    from pipeline.review import server

    assert server.MAX_BODY <= 4 << 20
    with pytest.raises(ValueError):
        json.loads('{"end": Infinity}', parse_constant=server._no_constant)
    with pytest.raises(ValueError):
        json.loads('{"end": NaN}', parse_constant=server._no_constant)
    assert server.TooLarge("request", "x").http_status == 413
    del asyncio


# -- 4. full-range ("JPEG range") video ----------------------------------------------------------
def test_full_range_video_renders_and_looks_right(tmp_path):
    import av
    import numpy as np

    episode = tmp_path / "fr"
    make_clip(episode / "1.mp4", size="320x180", duration=4.0, source="color=c=white",
              vcodec=("-c:v", "libx264", "-preset", "ultrafast", "-color_range", "pc", "-pix_fmt", "yuvj420p"))
    from pipeline.source.probe import probe

    assert probe(episode / "1.mp4").color_range == "pc"
    before = tree_hashes(episode)
    result = cli("render", episode, "-n", "youtube-shorts", "--captions", "none", "--redact", "none")
    assert result.exit_code == 0, result.output
    out = tmp_path / "exports" / "fr" / "youtube-shorts" / "fr.mp4"
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0))
        assert frame.format.name == "yuv420p"
        y = frame.to_ndarray()[:frame.height]
        assert 230 <= int(np.median(y[860:1060, 440:640])) <= 236     # white at limited-range white
        assert (frame.to_ndarray(format="rgb24")[960, 540] >= 250).all()
    assert tree_hashes(episode) == before


# -- 5. audio that starts later than the video ----------------------------------------------------
def _audio_onset(path: Path, start: float = 0.0) -> float:
    import numpy as np

    from pipeline.core.ffmpeg import command, compile_graph
    from pipeline.source.normalize import AUDIO_RATE, ClipSpan, audio_input
    from pipeline.source.probe import probe

    span = ClipSpan(path, probe(path), start)
    args = compile_graph(audio_input(span).output("pipe:", format="f32le", ac=1))
    samples = np.frombuffer(subprocess.run(command(*args), capture_output=True, check=True).stdout, np.float32)
    return float(np.argmax(np.abs(samples) > 0.05)) / AUDIO_RATE


def test_audio_start_offset_is_kept_in_sync(tmp_path):
    from pipeline.core.ffmpeg import run
    from pipeline.source.probe import probe

    clip = tmp_path / "late.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4", "-itsoffset", "0.5", "-f", "lavfi", "-i",
         "sine=f=440:d=3.5:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", str(clip)], source=clip, what="fixture")
    assert probe(clip).audio_offset == pytest.approx(0.5, abs=0.03)
    assert _audio_onset(clip) == pytest.approx(0.5, abs=0.03)          # as a player plays it
    assert _audio_onset(clip, start=1.0) == pytest.approx(0.0, abs=0.03)  # trimmed past the offset


# -- 6. paths ffmpeg misreads --------------------------------------------------------------------
def test_folder_with_percent_d_and_output_starting_with_dash(tmp_path, clip_bytes, monkeypatch):
    episode = tmp_path / "ep%d"
    episode.mkdir()
    (episode / "1.mp4").write_bytes(clip_bytes)
    before = tree_hashes(episode)
    monkeypatch.chdir(tmp_path)
    result = cli("render", "ep%d", "-n", "youtube-shorts", "--captions", "none", "--redact", "none", "-o", "-out")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "-out" / "ep%d" / "youtube-shorts"
    assert sorted(p.name for p in folder.iterdir()) == [".cadre-job.json", "cover.jpg", "ep%d.mp4", "ep%d.srt",
                                                        "ep%d.vtt", "report.json"]
    assert not list(tmp_path.glob("-out/ep1*")) and not list(tmp_path.glob("ep1*"))
    assert tree_hashes(episode) == before


def test_literal_paths_unit():
    from pipeline.core.ffmpeg import literal_paths

    args = literal_paths(["-f", "lavfi", "-i", "anullsrc=r=48000", "-i", __file__, "-c:v", "libx264", "/tmp/x%d.jpg"])
    assert args[3] == "anullsrc=r=48000" and args[5] == "file:" + __file__
    png = literal_paths(["-i", str(Path(__file__).resolve().parent.parent / "assets" / "missing.png")])
    assert png[0] == "-i"   # a name that does not exist is left to ffmpeg's own error
    assert args[-1] == "file:/tmp/x%d.jpg" and args[-3:-1] == ["-update", "1"]
    assert literal_paths(["-i", "pipe:", "-f", "null", "-"])[-1] == "-"


@pytest.mark.parametrize("name", ["a\ncadre: error: forged.mp4", "b\r\x1b[2Kc.mp4", "tab\there.mp4"])
def test_control_characters_in_a_name_are_escaped(tmp_path, name):
    episode = tmp_path / "ep"
    episode.mkdir()
    (episode / name).write_text("not a video\n" * 20)
    before = tree_hashes(episode)
    proc = subprocess.run([*CADRE, "render", str(episode), "--captions", "none"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("cadre:")]
    assert len(lines) == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "not a readable video" in lines[0] and "\x1b" not in lines[0] and "\r" not in proc.stderr
    assert repr(name)[1:-1].split("\\")[0] in lines[0]
    assert tree_hashes(episode) == before


# -- 8. extreme shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("size,needle", [("2048x16", "2048x16, a shape beyond"), ("16x2048", "16x2048, a shape beyond"),
                                         ("9000x2000", "up to 8192 px a side"), ("6400x6400", "40 megapixels")])
def test_extreme_frame_shapes_refused_early(tmp_path, size, needle):
    episode = tmp_path / "ep"
    make_clip(episode / "1.mp4", size=size, rate=2, duration=1.0, audio=False, source="color=c=gray")
    before = tree_hashes(episode)
    result = render(episode)
    assert_one_error(result, "1.mp4", needle)        # the probe's message: refused before any decoding
    assert_nothing_published(episode, before)


# -- 7. a full disk --------------------------------------------------------------------------------
def test_disk_fills_while_copying_the_export(tmp_path, clip_bytes, mount_tmpfs):
    """The master fits in the staging folder, its copy for the network does not."""
    episode = tmp_path / "ep"
    episode.mkdir()
    (episode / "1.mp4").write_bytes(clip_bytes)
    out = mount_tmpfs(tmp_path / "small-disk", "size=3m")
    before = tree_hashes(episode)
    result = cli("render", episode, "-o", out, "-n", "youtube-shorts", "--captions", "none", "--redact", "none")
    line = assert_one_error(result, "disk is full (No space left on device)", "nothing was published")
    assert ".cadre-staging" not in line, line
    assert list(out.iterdir()) == [], f"partial output left: {list(out.rglob('*'))}"
    assert tree_hashes(episode) == before


def test_disk_fills_while_writing_the_contact_sheet(tmp_path, mount_tmpfs):
    from types import SimpleNamespace

    from pipeline.faces.audit import contact_sheet

    disk = mount_tmpfs(tmp_path / "full", "size=64k")
    (disk / "filler").write_bytes(b"\0" * (60 << 10))
    target = disk / "ep" / ".cadre-staging-x" / "contact-sheet.jpg"
    with pytest.raises(CadreError) as info:
        contact_sheet({}, {}, SimpleNamespace(method="none"), path=target, columns=40, thumb=400)
    line = str(info.value)
    assert "disk is full" in line and ".cadre-staging" not in line and line.startswith(str(disk / "ep")), line
    assert not target.exists()


@pytest.mark.parametrize("size", [(2048, 16), (2048, 256), (16, 2048), (320, 40)])
def test_face_analysis_cost_is_bounded_by_the_output(size):
    from pipeline.faces.scan import MAX_DETECT_PIXELS, scan_plan
    from pipeline.faces.settings import load_settings

    plan = scan_plan(*size, load_settings("mosaic"))
    w, h = plan.read_size
    assert w * h * plan.upscale ** 2 <= MAX_DETECT_PIXELS * 1.01
    assert scan_plan(1920, 1080, load_settings("mosaic")).upscale == pytest.approx(17 / 11.25)   # 1080p: not capped


def test_thin_clip_is_analysed_and_rendered(tmp_path):
    """8:1, the thinnest shape accepted, is masked: the face in it is found and the published
    pixels inside its box are mosaic cells, not the face (its cost bound is checked by
    test_face_analysis_cost_is_bounded_by_the_output; speed itself belongs in benchmarks/)."""
    import av
    import numpy as np
    from PIL import Image
    from skimage import data

    from pipeline.core.ffmpeg import run
    from tests.test_hostile_episodes import face_detail, unmasked

    episode = tmp_path / "thin"
    episode.mkdir()
    frame = np.full((128, 1024, 3), 128, np.uint8)
    frame[:, 448:576] = np.asarray(Image.fromarray(data.astronaut()).resize((128, 128), Image.LANCZOS))
    Image.fromarray(frame).save(tmp_path / "thin.png")
    run(["-loop", "1", "-framerate", "30", "-i", str(tmp_path / "thin.png"), "-t", "2", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(episode / "1.mp4")], source=episode, what="fixture")
    result = cli("render", episode, "-n", "youtube-shorts", "--captions", "none", "--reanalyse")
    assert result.exit_code == 0, result.output
    out = tmp_path / "exports" / "thin" / "youtube-shorts"
    report = json.loads((out / "report.json").read_text())
    faces = [m for m in report["redaction"]["masked"] if m["kind"] == "face"]
    assert report["redaction"]["method"] == "mosaic" and faces, report["redaction"]["masked"]
    box = faces[0]["frame_box"]
    assert box[0] < 0.5 < box[2]                                   # the face in the middle was found
    with av.open(str(out / "thin.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    plain = face_detail(unmasked(frame), box, 1024 / 128)   # the face as it would be published unmasked
    for n in (0, len(frames) // 2, len(frames) - 1):
        assert face_detail(frames[n], box, 1024 / 128) < plain / 3, n   # masked: flat mosaic cells


# -- 3b. the review API: non-finite numbers, wrong types, sizes -----------------------------------
@pytest.fixture(scope="module")
def review(tmp_path_factory):
    pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
    pytest.importorskip("uvicorn", reason="cadre review needs uvicorn")
    pytest.importorskip("tomlkit", reason="cadre review needs tomlkit")
    from pipeline.review.server import ReviewServer
    from tests.test_review_fixtures import make_episode

    folder = make_episode(tmp_path_factory.mktemp("review-hostile"))
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("secret", "utf-8")
    srv = ReviewServer(folder, proxy=False).start()
    yield srv, folder
    srv.stop()


def _post(srv, path: str, raw: bytes):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.putrequest("POST", f"/{srv.token}{path}", skip_host=True, skip_accept_encoding=True)
    for k, v in {"Host": f"127.0.0.1:{srv.port}", "Content-Type": "application/json",
                 "Content-Length": str(len(raw))}.items():
        conn.putheader(k, v)
    conn.endheaders(raw)
    res = conn.getresponse()
    out = res.status, res.read().decode("utf-8", "replace")
    conn.close()
    return out


def _get(srv, path: str):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("GET", f"/{srv.token}{path}", headers={"Host": f"127.0.0.1:{srv.port}"})
    res = conn.getresponse()
    out = res.status, res.read()
    conn.close()
    return out


HOSTILE_REQUESTS = {
    "cue-end-infinity": ("/api/captions", b'{"clip": "1.mp4", "cues": [{"start": 0, "end": Infinity, "text": "x"}]}', 400),
    "cue-start-nan": ("/api/captions", b'{"clip": "1.mp4", "cues": [{"start": NaN, "end": 1, "text": "x"}]}', 400),
    "cue-end-1e308": ("/api/captions", b'{"clip": "1.mp4", "cues": [{"start": 0, "end": 1e308, "text": "x"}]}', 400),
    "mask-start-nan": ("/api/mask", b'{"clip": "1.mp4", "whole_frame": true, "start": NaN}', 400),
    "mask-region-nan": ("/api/mask", b'{"clip": "1.mp4", "region": [0.1, NaN, 0.5, 0.5], "start": 0}', 400),
    "deep-json": ("/api/captions", b"[" * 100000 + b"]" * 100000, 400),
    "huge-body": ("/api/captions", b'{"clip": "1.mp4", "cues": [], "x": "' + b"a" * (3 << 20) + b'"}', 413),
    "bleep-term-list": ("/api/bleep", b'{"term": ["Dupont"]}', 400),
    "bleep-term-number": ("/api/bleep", b'{"term": 12}', 400),
    "track-list": ("/api/track", b'{"clip": "1.mp4", "track": ["a"], "keep": true}', 400),
    "clip-list": ("/api/captions", b'{"clip": ["1.mp4"], "cues": []}', 404),
    "approver-1mb": ("/api/approve", b'{"by": "' + b"x" * (900 << 10) + b'"}', 400),
    "approver-list": ("/api/approve", b'{"by": ["x"]}', 400),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_REQUESTS))
def test_review_api_hostile_request_is_4xx_and_changes_nothing(review, case):
    srv, folder = review
    path, raw, status = HOSTILE_REQUESTS[case]
    before = tree_hashes(folder)
    got, text = _post(srv, path, raw)
    assert got == status, (got, text[:300])
    assert tree_hashes(folder) == before
    state, body = _get(srv, "/api/state")
    assert state == 200 and json.loads(body)          # the page still loads


@pytest.mark.parametrize("query", ["t=nan", "t=inf", "t=-1", "t=1e400"])
def test_review_frame_time_must_be_finite(review, query):
    srv, _ = review
    status, _ = _get(srv, f"/frame?clip=1.mp4&{query}")
    assert status == 400


def test_review_files_inside_dot_folders_are_not_served(review):
    srv, _ = review
    assert _get(srv, "/files/.git/config")[0] == 404
    assert _get(srv, "/files/1.fr.srt")[0] == 200


# -- damaged input with faces present ------------------------------------------------------------
def test_decoder_damage_reported_when_faces_are_masked(tmp_path):
    from tests.test_review_fixtures import face_clip

    episode = tmp_path / "ep"
    clip = face_clip(episode / "1.mp4", seconds=2.0)
    data = bytearray(clip.read_bytes())
    for frac in (0.4, 0.7):
        i = int(len(data) * frac)
        data[i:i + 400] = bytes((j * 37 + 11) % 256 for j in range(400))
    clip.write_bytes(bytes(data))
    before = tree_hashes(episode)
    result = cli("render", episode, "-n", "youtube-shorts", "--captions", "none")
    assert result.exit_code == 0, result.output
    assert "decoder reported damaged input" in result.output
    report = json.loads((tmp_path / "exports" / "ep" / "youtube-shorts" / "report.json").read_text())
    assert report["redaction"]["method"] != "none" and report["decoder_warnings"]
    assert tree_hashes(episode) == before


def test_review_frame_of_the_clips_last_frame(tmp_path):
    """A track whose best frame is the clip's last frame: thumbnail and review --export need it."""
    import numpy as np

    from pipeline.review.frames import grab
    from pipeline.source.normalize import ClipSpan, read_frames
    from pipeline.source.probe import probe

    clip = make_clip(tmp_path / "1.mp4", size="320x180", duration=2.0, audio=False)
    span = ClipSpan(clip, probe(clip))
    frames = dict(read_frames(span, 320))
    for j in (0, span.frame_count - 2, span.frame_count - 1):
        assert np.array_equal(grab(span, j, 320), frames[j]), j


@pytest.mark.parametrize("content,needle", [(b"Gendarmerie\nBrigade de s\xfbret\xe9\n", "line 2: byte 0xfb is not UTF-8"),
                                            (bytes(range(256)), "save it as UTF-8")])
def test_transcribe_glossary_file_not_utf8(tmp_path, content, needle):
    glossary = tmp_path / "glossary.txt"
    glossary.write_bytes(content)
    clip = make_clip(tmp_path / "ep" / "1.mp4", size="160x90", duration=1.0)
    before = tree_hashes(tmp_path)
    result = cli("transcribe", clip, "--glossary", f"@{glossary}")
    assert_one_error(result, "glossary.txt", needle)
    assert tree_hashes(tmp_path) == before


def test_video_start_offset_is_held_in_sync(tmp_path):
    """Video that starts 0.5 s after the audio: its first picture is held, as a player shows it."""
    import numpy as np

    from pipeline.core.ffmpeg import run
    from pipeline.source.normalize import ClipSpan, read_frames
    from pipeline.source.probe import probe

    clip = tmp_path / "vlate.mp4"
    run(["-itsoffset", "0.5", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3.5", "-f", "lavfi", "-i",
         "sine=f=440:d=4:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", str(clip)], source=clip, what="fixture")
    info = probe(clip)
    assert info.audio_offset == pytest.approx(-0.5, abs=0.03) and info.duration == pytest.approx(4.0, abs=0.05)
    span = ClipSpan(clip, info)
    frames = [f for _, f in read_frames(span, 320)]
    assert len(frames) == span.frame_count
    held = [np.array_equal(frames[0], f) for f in frames[:20]]
    assert held[:16] == [True] * 16 and not held[16]        # frames 0-14 hold frame 15, the first picture
    assert _audio_onset(clip) == pytest.approx(0.0, abs=0.03)


@pytest.mark.parametrize("args", [["-bf", "3"], ["-bf", "3", "-use_editlist", "0"], ["-f", "mpegts"]],
                         ids=["bframes", "no-editlist", "mpegts"])
def test_usual_stream_offsets_change_nothing(tmp_path, args):
    """B-frame and container offsets (tens of ms) keep every frame where it was."""
    import numpy as np

    from pipeline.core.ffmpeg import run
    from pipeline.source.normalize import ClipSpan, read_frames
    from pipeline.source.probe import probe

    clip = tmp_path / ("c.ts" if "mpegts" in args else "c.mp4")
    run(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3", "-f", "lavfi", "-i", "sine=d=3:sample_rate=48000",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *args, str(clip)], source=clip, what="fixture")
    span = ClipSpan(clip, probe(clip))
    frames = [f for _, f in read_frames(span, 160)]
    assert span.frame_count == 90 and len(frames) == 90
    assert not np.array_equal(frames[0], frames[1])


def test_batch_bad_campaign_toml_is_one_line(tmp_path, clip_bytes):
    """campaign.toml concerns every episode: refused before any work, with one line (exit 1)."""
    campaign = tmp_path / "camp"
    (campaign / "a").mkdir(parents=True)
    (campaign / "a" / "1.mp4").write_bytes(clip_bytes)
    (campaign / "campaign.toml").write_bytes('branding = "défaut"\n'.encode("cp1252"))
    before = tree_hashes(campaign)
    result = cli("batch", campaign, "-n", "youtube-shorts", "--captions", "none")
    assert_one_error(result, "campaign.toml: line 1: byte 0xe9 is not UTF-8", "save it as UTF-8")
    assert tree_hashes(campaign) == before


def test_batch_nan_in_masks_toml_fails_that_episode_only(tmp_path, clip_bytes):
    campaign = tmp_path / "camp"
    for name in ("a", "b"):
        (campaign / name).mkdir(parents=True)
        (campaign / name / "1.mp4").write_bytes(clip_bytes)
    (campaign / "a" / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = nan\n')
    result = cli("batch", campaign, "-n", "youtube-shorts", "--captions", "none", "--redact", "none")
    assert result.exit_code == 3, result.output
    assert "masks.toml: key 'mask #1.start': nan" in result.output and "Traceback" not in result.output
    assert (campaign / "exports" / "b" / "youtube-shorts" / "b.mp4").is_file()


def test_review_save_on_a_full_disk_is_one_line_and_keeps_the_file(tmp_path, mount_tmpfs):
    pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
    from pipeline.review.server import ReviewServer
    from tests.test_review_fixtures import make_episode

    disk = mount_tmpfs(tmp_path / "disk", "size=1m")
    folder = make_episode(disk)
    free = __import__("os").statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 2048))
    before = tree_hashes(folder)
    srv = ReviewServer(folder, proxy=False).start()
    try:
        cues = [{"start": i, "end": i + 0.9, "text": "x" * 400} for i in range(40)]
        status, text = _post(srv, "/api/captions", json.dumps({"clip": "1.mp4", "cues": cues}).encode())
    finally:
        srv.stop()
    assert status == 507, (status, text[:300])
    assert "disk is full" in json.loads(text)["error"]
    assert tree_hashes(folder) == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.is_file()]


@pytest.mark.parametrize("folder", ["logo%d", "-logo", "logo%03d%%"])
def test_image_input_and_output_in_a_pattern_folder(tmp_path, folder):
    """A logo or cover (image2 muxer/demuxer) in a folder whose name is an ffmpeg pattern."""
    import shutil

    from PIL import Image

    from pipeline.core.ffmpeg import run
    from pipeline.core.resources import asset_path

    where = tmp_path / folder
    where.mkdir()
    logo = where / "logo.png"
    shutil.copyfile(asset_path("logo.png"), logo)
    run(["-i", str(logo), "-frames:v", "1", str(where / "cover.jpg")], source=logo, what="test")
    assert sorted(p.name for p in where.iterdir()) == ["cover.jpg", "logo.png"]
    with Image.open(where / "cover.jpg") as im:
        assert im.size == Image.open(logo).size
