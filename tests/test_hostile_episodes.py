"""Issue 28, the third hostile-input round: where exports go, a clip listed twice, trims and the
one-line contract. Inputs are built with the real ffmpeg; outputs are read back from the files."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.campaign.batch import BatchOptions
from pipeline.campaign.watch import CampaignWatcher, WatchOptions
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.orchestrator import RenderOptions
from tests.conftest import make_clip, tree_hashes

FAST = ["-n", "youtube-shorts", "--captions", "none", "--redact", "none"]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def cadre_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("cadre:")]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("media") / "c.mp4", size="320x180", duration=4.0).read_bytes()


@pytest.fixture
def campaign(tmp_path, clip_bytes) -> Path:
    camp = tmp_path / "camp"
    (camp / "ep").mkdir(parents=True)
    (camp / "ep" / "1.mp4").write_bytes(clip_bytes)
    return camp


# -- 1. an output folder that is, holds or is inside the episode folder ------------------------
@pytest.mark.parametrize("out,relation", [(".", "contains"), ("ep", "is"), ("ep/sub", "is inside")],
                         ids=["parent", "itself", "inside"])
@pytest.mark.parametrize("command", ["render", "batch"])
def test_output_folder_among_the_footage_is_refused(campaign, out, relation, command):
    before = tree_hashes(campaign)
    target = campaign / out
    result = cli(command, campaign / "ep" if command == "render" else campaign, "-o", target, *FAST)
    assert result.exit_code == 1, result.output
    lines = cadre_lines(result.output)
    assert len(lines) == 1 and lines[0].startswith("cadre: error:"), result.output
    assert f"the output folder {relation} the episode folder" in lines[0] and "-o" in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert tree_hashes(campaign) == before          # nothing written: no plan.json, audit.jsonl, network folder
    assert sorted(p.name for p in (campaign / "ep").iterdir()) == ["1.mp4"]
    assert not (campaign / "exports").exists()


def test_watch_refuses_an_output_folder_holding_the_episodes(campaign):
    options = WatchOptions(BatchOptions(RenderOptions(networks=("youtube-shorts",), out_dir=campaign)), settle=0.1)
    runs = []
    watcher = CampaignWatcher(campaign, options, runner=lambda *a: runs.append(a))
    stop = threading.Event()
    threading.Timer(5, stop.set).start()
    with pytest.raises(CadreError, match="the output folder contains the episode folder"):
        watcher.run(stop)
    stop.set()
    assert runs == []


def test_an_output_folder_beside_the_episode_still_works(campaign):
    result = cli("render", campaign / "ep", "-o", campaign.parent / "out", *FAST)
    assert result.exit_code == 0, result.output
    assert (campaign.parent / "out" / "ep" / "youtube-shorts" / "ep.mp4").is_file()


# -- 3. the same clip listed twice ------------------------------------------------------------
def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def face_detail(frame: np.ndarray, box, aspect: float) -> float:
    """Mean difference between neighbouring pixels in the middle of a face box (fractions of the
    source frame) of a ``fit`` output frame's sharp foreground (1080 px wide, centred): a face's
    detail gives several times what a mosaic's flat cells give."""
    h = 1080 / aspect
    y0 = (1920 - h) / 2
    x1, y1, x2, y2 = box
    cx, cy, half_w, half_h = (x1 + x2) / 2 * 1080, y0 + (y1 + y2) / 2 * h, (x2 - x1) * 1080 / 4, (y2 - y1) * h / 4
    face = frame[int(cy - half_h):int(cy + half_h), int(cx - half_w):int(cx + half_w)].astype(int)
    return float(np.abs(np.diff(face, axis=1)).mean() + np.abs(np.diff(face, axis=0)).mean())


def unmasked(source: np.ndarray) -> np.ndarray:
    """``source`` (RGB) as ``fit`` places it unmasked: 1080 px wide, centred in 1080x1920."""
    from PIL import Image

    h = round(1080 * source.shape[0] / source.shape[1])
    out = np.zeros((1920, 1080, 3), np.uint8)
    y0 = round((1920 - h) / 2)
    out[y0:y0 + h] = np.asarray(Image.fromarray(source).resize((1080, h), Image.BICUBIC))
    return out


@pytest.mark.slow
def test_a_clip_listed_twice_renders_twice(tmp_path):
    from tests.test_review_fixtures import face_clip

    ep = tmp_path / "ep"
    face_clip(ep / "1.mp4", seconds=1.0)
    (ep / "episode.toml").write_text('clips = ["1.mp4", "1.mp4"]\n')
    before = tree_hashes(ep)
    result = cli("render", ep, "-n", "youtube-shorts", "--captions", "none")   # faces masked (the default)
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output
    out = tmp_path / "exports" / "ep" / "youtube-shorts"
    frames = _frames(out / "ep.mp4")
    assert len(frames) == 60                                  # both takes, 30 frames each
    plan = json.loads((tmp_path / "exports" / "ep" / "plan.json").read_text())
    assert [c["file"] for c in plan["clips"]] == ["1.mp4", "1.mp4"] and plan["clips"][1]["offset"] == 1.0
    # the face is masked in both takes: the same picture, the same mosaic
    report = json.loads((out / "report.json").read_text())
    faces = [m for m in report["redaction"]["masked"] if m["kind"] == "face"]
    assert report["redaction"]["method"] == "mosaic" and faces
    box = faces[0]["frame_box"]
    plain = face_detail(unmasked(_frames(ep / "1.mp4")[0]), box, 640 / 360)
    for n in (15, 45):
        assert face_detail(frames[n], box, 640 / 360) < plain / 3, n   # mosaic cells, not the face
    assert np.abs(frames[15].astype(int) - frames[45].astype(int)).mean() < 3
    assert tree_hashes(ep) == before


@pytest.mark.slow
def test_a_clip_listed_twice_with_its_sound(tmp_path, clip_bytes):
    ep = tmp_path / "ep"
    ep.mkdir()
    (ep / "1.mp4").write_bytes(clip_bytes)
    (ep / "episode.toml").write_text('clips = ["1.mp4", {file = "1.mp4", start = 1.0}, "1.mp4"]\n')
    result = cli("render", ep, *FAST)
    assert result.exit_code == 0, result.output
    with av.open(str(tmp_path / "exports" / "ep" / "youtube-shorts" / "ep.mp4")) as c:
        assert c.streams.video[0].frames == 330
        assert float(c.streams.audio[0].duration * c.streams.audio[0].time_base) == pytest.approx(11.0, abs=0.05)


# -- 7. wording -------------------------------------------------------------------------------
def test_trim_end_past_the_clip_is_a_warning(campaign):
    (campaign / "ep" / "episode.toml").write_text('clips = [{file = "1.mp4", start = 1.0, end = 9.0}]\n')
    result = cli("render", campaign / "ep", *FAST)
    assert result.exit_code == 0, result.output
    warnings = [ln for ln in cadre_lines(result.output) if ln.startswith("cadre: warning:")]
    assert len(warnings) == 1, result.output
    assert "'1.mp4'" in warnings[0] and "end 9 s is past the clip's end (4.00 s)" in warnings[0], warnings[0]
    with av.open(str(campaign / "exports" / "ep" / "youtube-shorts" / "ep.mp4")) as c:
        assert c.streams.video[0].frames == 90


def test_trim_end_inside_the_clip_says_nothing(campaign):
    (campaign / "ep" / "episode.toml").write_text('clips = [{file = "1.mp4", end = 4.0}]\n')
    result = cli("render", campaign / "ep", *FAST)
    assert result.exit_code == 0, result.output
    assert not [ln for ln in cadre_lines(result.output) if "warning" in ln], result.output


@pytest.mark.parametrize("key", ["start", "end"])
def test_negative_trim_says_zero_or_more(campaign, key):
    (campaign / "ep" / "episode.toml").write_text(f'clips = [{{file = "1.mp4", {key} = -1}}]\n')
    result = cli("render", campaign / "ep", *FAST)
    assert result.exit_code == 1
    lines = cadre_lines(result.output)
    assert len(lines) == 1 and "episode.toml" in lines[0] and "must be 0 or more" in lines[0], result.output
    assert "None" not in lines[0] and "[0," not in lines[0]


def test_a_refused_network_is_one_line(tmp_path):
    """The only network asked for is refused after the audio pass (silent episode, Snapchat needs
    sound): one error line, no warning before it."""
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x180", rate=15, duration=6, audio=False)
    before = tree_hashes(ep)
    result = cli("render", ep, "-n", "snapchat", "--captions", "none", "--redact", "none")
    assert result.exit_code == 1, result.output
    lines = cadre_lines(result.output)
    assert len(lines) == 1 and lines[0].startswith("cadre: error:"), result.output
    assert "Snapchat Spotlight requires" in lines[0]
    assert tree_hashes(ep) == before
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").rglob("*.mp4"))
