"""Issue 27: the output geometry has one home, ``pipeline/core/geometry.py``, read from
``presets/master.toml``; a missing or absurd value there is one line naming the file and the key,
and the master's size and rate drive the reframing, the normalisation, the captions, the branding
and the review's proxy."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import av
import pytest

from pipeline.core import geometry
from pipeline.core.errors import CadreError
from pipeline.core.geometry import OUTPUT, Output, load_output
from pipeline.core.resources import data_dir, load_toml
from tests.conftest import make_clip

ROOT = Path(__file__).resolve().parent.parent


def test_output_is_read_from_master_toml():
    master = load_toml(data_dir("presets") / "master.toml")
    assert OUTPUT == Output(master["width"], master["height"], master["fps"]) == Output(1080, 1920, 30)
    assert (geometry.OUT_W, geometry.OUT_H, geometry.FPS) == (1080, 1920, 30)


def _master(tmp_path: Path, **values) -> Path:
    text = (data_dir("presets") / "master.toml").read_text("utf-8")
    for key, value in values.items():
        pattern = re.compile(rf"^{key} = .*$", re.M)
        text = pattern.sub("" if value is None else f"{key} = {value}", text)
    path = tmp_path / "master.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize("values, message", [
    ({"width": None}, "key 'width': is missing; set it to a whole number, between 16 and 8192"),
    ({"fps": None}, "key 'fps': is missing; set it to a whole number, between 1 and 120"),
    ({"fps": 0}, "key 'fps': 0 is out of range: it must be a whole number, between 1 and 120"),
    ({"fps": 29.97}, "key 'fps': 29.97 is not a whole number: it must be a whole number, between 1 and 120"),
    ({"height": 100000}, "key 'height': 100000 is out of range: it must be a whole number, between 16 and 8192"),
    ({"width": '"1080"'}, "key 'width': '1080' is not a whole number"),
    ({"width": 1081}, "key 'width': 1081 must be even"),
])
def test_a_missing_or_absurd_master_value_names_the_file_and_the_key(tmp_path, values, message):
    path = _master(tmp_path, **values)
    with pytest.raises(CadreError) as err:
        load_output(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)


PROBE = """
import json, subprocess, sys
from pathlib import Path
import numpy as np
from pipeline.captions.ass import write_ass
from pipeline.captions.styles import load_style
from pipeline.core.ffmpeg import command, compile_graph
from pipeline.core.geometry import OUTPUT
from pipeline.reframe import make_reframer, OUT_W, OUT_H
from pipeline.review.proxy import PROXY_SIZE
from pipeline.source.normalize import FPS, ClipSpan, video_input, working_size
from pipeline.source.probe import probe

clip = Path(sys.argv[1])
span = ClipSpan(clip, probe(clip))
size = working_size(span.info)
graph = make_reframer("crop", size).graph(video_input(span, size))
raw = subprocess.run(command(*compile_graph(graph.output("pipe:", format="rawvideo", pix_fmt="rgb24"))),
                     capture_output=True, check=True).stdout
ass = Path(sys.argv[2])
write_ass([], load_style("social"), (0, 0, 0, 0), ass)
print(json.dumps({"output": list(OUTPUT.size) + [OUTPUT.fps], "reframe": [OUT_W, OUT_H], "fps": FPS,
                  "frames": len(raw) / (OUT_W * OUT_H * 3), "frame_count": span.frame_count,
                  "proxy": list(PROXY_SIZE), "ass": ass.read_text("utf-8")}))
"""


def _copy_at_720(tmp_path) -> tuple[Path, dict]:
    """A copy of Cadre whose presets/master.toml (and TikTok's preset, which the master must meet)
    say 720x1280 at 25 fps, and the environment that runs it."""
    copy = tmp_path / "cadre"
    shutil.copytree(ROOT / "pipeline", copy / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copytree(ROOT / "presets", copy / "presets")
    (copy / "assets").symlink_to(ROOT / "assets")
    for name in ("master.toml", "networks/tiktok.toml"):
        path = copy / "presets" / name
        text = path.read_text("utf-8")
        for key, value in (("width", 720), ("height", 1280), ("fps", 25)):
            text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.MULTILINE)
        path.write_text(text, "utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy), "CADRE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CADRE_PRESETS", None)
    return copy, env


def test_master_toml_drives_every_stage(tmp_path):
    """A copy of Cadre whose presets/master.toml says 720x1280 at 25 fps normalises, reframes,
    lays out captions and sizes the review proxy at that size and rate: the decoded frames count
    and measure what the file says."""
    copy, env = _copy_at_720(tmp_path)
    clip = make_clip(tmp_path / "1.mp4", size="640x360", rate=30, duration=2.0, audio=False)
    done = subprocess.run([sys.executable, "-c", PROBE, str(clip), str(tmp_path / "c.ass")], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["output"] == [720, 1280, 25] and got["reframe"] == [720, 1280] and got["fps"] == 25
    assert got["frame_count"] == 50 and got["frames"] == 50       # 2 s at 25 fps, each 720x1280
    assert got["proxy"] == [360, 640]
    assert "PlayResX: 720" in got["ass"] and "PlayResY: 1280" in got["ass"]


@pytest.mark.slow
def test_a_render_follows_master_toml(tmp_path):
    """The whole render of that copy, with a whole-frame mask so frames go through the Python
    masking pipe: the published file is 720x1280 at 25 fps, 3.2 s long, and passes its checks."""
    copy, env = _copy_at_720(tmp_path)
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", rate=30, duration=3.2)
    (ep / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nstart = 1.0\nend = 2.0\n')
    done = subprocess.run([sys.executable, "-c", "from pipeline.cli import entry; entry()", "render", str(ep),
                           "-n", "tiktok", "--redact", "none", "--captions", "none", "-o", str(tmp_path / "out")],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    video = tmp_path / "out" / "ep" / "tiktok" / "ep.mp4"
    with av.open(str(video)) as f:
        stream = f.streams.video[0]
        frames = [fr.to_ndarray(format="rgb24") for fr in f.decode(stream)]
        rate = stream.average_rate
    assert frames[0].shape == (1280, 720, 3) and rate == 25 and len(frames) == 80
    masked, plain = frames[37], frames[12]             # 1.5 s (inside the mask) and 0.5 s
    assert masked.std() < 1 < 50 < plain.std(), "the whole-frame mask did not reach the pixels"


def test_the_geometry_has_one_definition():
    """No module of the package writes the master's size again, nor defines its own size or rate
    (strings and comments may speak of 1080x1920; the analysis width's upper bound is a width of
    the source, not of the output)."""
    names = re.compile(r"^\s*(FPS|OUT_W|OUT_H|OUTPUT_SIZE|PROXY_SIZE)\b[^=]*=\s*\(?\s*\d")
    found = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        lines = path.read_text("utf-8").splitlines()
        with path.open("rb") as f:
            numbers = {t.start[0] for t in tokenize.tokenize(f.readline)
                       if t.type == tokenize.NUMBER and t.string in ("1080", "1920")}
        for n, line in enumerate(lines, 1):
            if (n in numbers and "analysis_width" not in line) or names.match(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text, message", [
    ("width = 1081\nheight = 1920\nfps = 30\n", "must be even"),
    ("width = 1080\nheight = [1920\n", "invalid TOML"),
])
def test_a_broken_master_toml_is_one_line_and_no_render(tmp_path, text, message):
    """A copy of Cadre whose presets/master.toml is broken: ``cadre render`` (and ``import
    pipeline``, which every command needs) prints one line naming the file and the fix, no
    traceback, exits non-zero and writes nothing; before, the import raised and Python printed a
    traceback."""
    copy, env = _copy_at_720(tmp_path)
    (copy / "presets" / "master.toml").write_text(text, "utf-8")
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="640x360", rate=30, duration=1.0, audio=False)
    before = sorted(p.name for p in ep.iterdir())
    out = tmp_path / "out"
    for args in (["render", str(ep), "-n", "tiktok", "-o", str(out)], ["doctor"]):
        done = subprocess.run([sys.executable, "-c", "from pipeline.cli import entry; entry()", *args],
                              cwd=copy, env=env, capture_output=True, text=True, timeout=300)
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0, args
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0].startswith("cadre: error: ") and "master.toml" in lines[0] and message in lines[0]
    assert not out.exists() and sorted(p.name for p in ep.iterdir()) == before
    library = subprocess.run([sys.executable, "-c", "import pipeline as cadre; cadre.render_episode(%r)" % str(ep)],
                             cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert library.returncode != 0 and "CadreError" in library.stderr and "master.toml" in library.stderr
