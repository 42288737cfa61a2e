"""Moving regions: a ``[[mask]]`` with ``moving = true`` follows a synthetic number plate that
crosses the picture, and every pixel of the plate is masked on every frame (fails closed)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import ffmpeg_exe
from pipeline.faces.moving import LOST_WHOLE_FRAME, _masks, track_region
from pipeline.faces.overrides import load_overrides
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe

W, H, FPS, SECONDS = 640, 360, 30, 3.0
PW, PH = 80, 28          # plate size in pixels


def plate_path(n: int) -> tuple[int, int]:
    """Top-left corner of the plate at frame ``n``: across and back, at up to 0.88 frame widths a second."""
    t = n / FPS
    x = 20 + 270 * (1 - np.cos(2 * np.pi * t / SECONDS))
    y = 160 + 40 * np.sin(2 * np.pi * t / SECONDS)
    return int(x), int(y)


def make_plate_clip(path: Path) -> Path:
    rng = np.random.default_rng(7)
    plate = rng.integers(0, 255, (PH, PW, 3), dtype=np.uint8)
    plate[:, :4] = plate[:, -4:] = plate[:4] = plate[-4:] = 255
    background = (rng.integers(60, 90, (H // 8, W // 8, 1), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
                  .repeat(3, 2))
    frames = int(SECONDS * FPS)
    proc = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}",
                             "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    for n in range(frames):
        f = background.copy()
        x, y = plate_path(n)
        f[y:y + PH, x:x + PW] = plate
        proc.stdin.write(f.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


def test_a_tracked_plate_is_covered_on_every_frame(tmp_path):
    clip = make_plate_clip(tmp_path / "1.mp4")
    x, y = plate_path(0)
    region = [x / W, y / H, (x + PW) / W, (y + PH) / H]
    (tmp_path / "masks.toml").write_text(f'[[mask]]\nclip = "1.mp4"\nregion = {region}\nmoving = true\nlabel = "plate"\n')
    ov = load_overrides(tmp_path / "masks.toml", ["1.mp4"])
    (entry,) = ov.entries
    assert entry.moving and entry.kind == "mask_region"
    span = ClipSpan(clip, probe(clip))
    tracked = track_region(span, entry.region, entry.start, entry.end)
    ov.paths[entry] = tracked
    uncovered, whole = [], 0
    for n in range(span.frame_count):
        (box,) = ov.moving_boxes(entry, n)
        px, py = plate_path(n)
        if box == (0.0, 0.0, 1.0, 1.0):
            whole += 1
        if not (box[0] * W <= px and box[1] * H <= py and box[2] * W >= px + PW and box[3] * H >= py + PH):
            uncovered.append(n)
    assert uncovered == [], uncovered
    assert whole == 0 and tracked.lost == []      # it really followed the plate, not the whole frame
    # mask boxes stay tight enough to be useful: well under a quarter of the picture
    assert max((b[2] - b[0]) * (b[3] - b[1]) for b in tracked.boxes) < 0.1


def test_lost_tracking_fails_closed():
    region = (0.4, 0.4, 0.5, 0.5)
    good = [(0.4 + 0.01 * i, 0.4, 0.5 + 0.01 * i, 0.5) for i in range(5)]
    # lost at once: the whole span masked at the drawn position, grown, flagged
    first = _masks([region, None, None, good[3]], region, 10)
    assert first.lost == [(10, 13)] and all(b[0] < 0.4 and b[2] > 0.5 for b in first.boxes)
    # lost later: the last good box held and grown, then the whole frame; the stretch flagged
    raw = good + [None] * (LOST_WHOLE_FRAME + 2) + good[:1]
    later = _masks(raw, region, 0)
    assert later.lost == [(5, 5 + LOST_WHOLE_FRAME + 1)]
    held = later.boxes[6]
    assert held[0] < good[4][0] and held[2] > good[4][2]
    assert later.boxes[5 + LOST_WHOLE_FRAME] == (0.0, 0.0, 1.0, 1.0)


def test_untracked_moving_region_masks_the_whole_frame(tmp_path):
    (tmp_path / "masks.toml").write_text('[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.2, 0.2]\nmoving = true\n')
    ov = load_overrides(tmp_path / "masks.toml", ["1.mp4"])
    assert ov.moving_boxes(ov.entries[0], 3) == [(0.0, 0.0, 1.0, 1.0)]


@pytest.mark.parametrize("body, message", [
    ('[[mask]]\nclip = "1.mp4"\nwhole_frame = true\nmoving = true\n', r"#1: moving = true needs a region"),
    ('[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.2, 0.2]\nmoving = "yes"\n', r"#1: moving = 'yes' must be true or false"),
])
def test_bad_moving_masks(tmp_path, body, message):
    (tmp_path / "masks.toml").write_text(body)
    with pytest.raises(CadreError, match=message):
        load_overrides(tmp_path / "masks.toml", ["1.mp4"])


def test_a_region_smaller_than_8_px_is_refused(tmp_path):
    clip = make_plate_clip(tmp_path / "1.mp4")
    with pytest.raises(CadreError, match="smaller than 8 px") as err:
        track_region(ClipSpan(clip, probe(clip)), (0.1, 0.1, 0.105, 0.2), 0.0, None)
    assert "\n" not in str(err.value)


def test_automatic_plates_are_refused_in_one_line_until_a_detector_ships(tmp_path, monkeypatch):
    """plates = true in a unit's redaction preset: no offline plate detector, so the render stops
    with one line saying how to mask plates instead (fails closed, never skips)."""
    from click.testing import CliRunner

    from pipeline.cli import main
    from tests.conftest import make_clip

    presets = tmp_path / "presets" / "redaction"
    presets.mkdir(parents=True)
    (presets / "unit.toml").write_text('method = "mosaic"\nplates = true\n', "utf-8")
    monkeypatch.setenv("CADRE_PRESETS", str(tmp_path / "presets"))
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="320x240", duration=1.0)
    (ep / "episode.toml").write_text('redaction = "unit"\n', "utf-8")
    result = CliRunner().invoke(main, ["render", str(ep), "-n", "youtube-shorts", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("cadre:")]
    assert len(lines) == 1 and "unit.toml: key 'plates': true" in lines[0] and "set plates = false" in lines[0] \
        and "moving [[mask]]" in lines[0], result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.mp4"))
