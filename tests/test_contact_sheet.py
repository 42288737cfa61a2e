"""Issues 13 and 17: the contact sheet shows what was published, and everything masked is audited.

Two short clips are made with ffmpeg from real photographs (``/work/shared/media/images``) and the
real CenterFace finds the faces. The sheet is read back as a user would: the JPEG opened with
Pillow, each tile found from the sheet's own index (``contact-sheet.json``) and its pixels
compared with the same crop of the unmasked source frame, decoded here with ffmpeg.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe, run
from pipeline.faces.analysis import analyse_faces
from pipeline.faces.audit import audit_items, contact_sheet, redaction_report
from pipeline.faces.moving import follow_overrides
from pipeline.faces.overrides import load_overrides
from pipeline.faces.settings import load_settings
from pipeline.sound.voice import place
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe

MASKS = """[[keep]]
clip = "2.mp4"
track = "{woman}"
note = "kept visible in cadre review"

[[mask]]
clip = "1.mp4"
region = [0.03, 0.08, 0.16, 0.28]
moving = true
label = "leaves"

[[mask]]
clip = "2.mp4"
region = [0.05, 0.8, 0.35, 0.97]
start = 0.3
moving = true
label = "hand"

[[mask]]
clip = "2.mp4"
region = [0.66, 0.82, 0.95, 0.97]
end = 0.6
label = "badge"

[[mask]]
clip = "2.mp4"
whole_frame = true
start = 1.25
end = 1.5

[[voice]]
clip = "1.mp4"
start = 0.2
end = 0.9
preset = "high"
label = "witness"

[[voice]]
clip = "2.mp4"
start = 0.1
preset = "robot"
"""


def _clips(media: Path, folder: Path) -> None:
    """1.mp4: three adults, 1280x720, the camera tilting 30 px a second for 2 s. 2.mp4: a man and a
    woman, 576x720, 1.2 s, then a hard cut to 0.4 s of test pattern. French speech under both."""
    images, audio = media / "images", media / "audio" / "fr"
    run(["-loop", "1", "-framerate", "30", "-i", str(images / "dlib_2008_001322.jpg"),
         "-i", str(audio / "fr_fleurs_002.wav"),
         "-filter_complex", "[0:v]scale=1280:960,crop=1280:720:0:'100+30*t',format=yuv420p[v]",
         "-map", "[v]", "-map", "1:a", "-t", "2.0", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16",
         "-c:a", "aac", str(folder / "1.mp4")], source=folder, what="fixture")
    run(["-loop", "1", "-framerate", "30", "-i", str(images / "dlib_2009_004587.jpg"),
         "-f", "lavfi", "-i", "testsrc2=s=576x720:r=30:d=0.4", "-i", str(audio / "fr_fleurs_001.wav"),
         "-filter_complex", "[0:v]scale=576:720,trim=duration=1.2,setsar=1,format=yuv420p[a];"
                            "[1:v]setsar=1,format=yuv420p[b];[a][b]concat=n=2:v=1:a=0[v]",
         "-map", "[v]", "-map", "2:a", "-t", "1.6", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16",
         "-c:a", "aac", str(folder / "2.mp4")], source=folder, what="fixture")


@pytest.fixture(scope="module")
def episode(shared_media, tmp_path_factory):
    """The episode folder, its clips' spans and face tracks (real CenterFace) and its masks.toml."""
    folder = tmp_path_factory.mktemp("audit") / "ep"
    folder.mkdir()
    _clips(shared_media, folder)
    spans = {n: ClipSpan(folder / n, probe(folder / n)) for n in ("1.mp4", "2.mp4")}
    tracks = {n: analyse_faces(s, load_settings("mosaic")) for n, s in spans.items()}
    # the woman (right, lower half of 2.mp4) is the one a reviewer keeps visible
    woman = next(t for t in tracks["2.mp4"].tracks
                 if (t.boxes[0][0] + t.boxes[0][2]) / 2 > 0.6 and 0.45 < (t.boxes[0][1] + t.boxes[0][3]) / 2 < 0.8
                 and len(t.frames) > 10)
    (folder / "masks.toml").write_text(MASKS.format(woman=woman.id), "utf-8")
    return folder, spans, tracks, woman.id


def _overrides(folder: Path, spans: dict):
    overrides = load_overrides(folder / "masks.toml", list(spans))
    follow_overrides(overrides, list(spans.values()))      # as the render's mask timeline does
    return overrides


def _source_frame(path: Path, index: int, size: tuple[int, int]) -> np.ndarray:
    """Frame ``index`` of the clip, unmasked, decoded by ffmpeg at ``size``."""
    w, h = size
    out = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-i", str(path), "-vf", f"select=eq(n\\,{index}),scale={w}:{h}",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8)[: w * h * 3].reshape(h, w, 3)


# -- what a tile's pixels show -------------------------------------------------------------------
def _grey(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _detail(g: np.ndarray, inside: np.ndarray) -> float:
    """Mean absolute Laplacian inside the mask: fine detail (edges of eyes, leaves, letters)."""
    lap = np.abs(4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:])
    return float(lap[inside[1:-1, 1:-1]].mean())


def _blockiness(g: np.ndarray, inside: np.ndarray, xs: list[float], ys: list[float]) -> float:
    """Mean step across the mosaic grid's lines over the mean step elsewhere (about 1 if no grid)."""
    dx, dy = np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0))
    cols, rows = np.arange(dx.shape[1]), np.arange(dy.shape[0])
    near_x = np.min(np.abs(cols[:, None] + 0.5 - np.asarray(xs)[None, :]), axis=1) if xs else np.full(cols.shape, 9.0)
    near_y = np.min(np.abs(rows[:, None] + 0.5 - np.asarray(ys)[None, :]), axis=1) if ys else np.full(rows.shape, 9.0)
    mx, my = inside[:, :-1] & inside[:, 1:], inside[:-1, :] & inside[1:, :]
    on = np.concatenate([dx[mx & (near_x <= 1.5)[None, :]], dy[my & (near_y <= 1.5)[:, None]]])
    off = np.concatenate([dx[mx & (near_x >= 3)[None, :]], dy[my & (near_y >= 3)[:, None]]])
    return float(on.mean() / max(off.mean(), 0.5)) if on.size and off.size else 1.0


def _inside(shape, box, ellipse: bool, margin: float = 3.0) -> np.ndarray:
    """Pixels of the tile well inside the mask box (or its inscribed ellipse), away from the outline."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    x0, y0, x1, y1 = box
    if ellipse:
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 - margin, (y1 - y0) / 2 - margin
        return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
    return (xx >= x0 + margin) & (xx <= x1 - margin) & (yy >= y0 + margin) & (yy <= y1 - margin)


def _grid(item: dict, settings, tile_origin) -> tuple[list[float], list[float]]:
    """Where the mosaic's cell edges fall in the tile (masking.py lays cells from the box's corner)."""
    fw, fh = item["frame_size"]
    bx0, by0, bx1, by1 = (v * s for v, s in zip(item["frame_box"], (fw, fh, fw, fh)))
    cell = max(4, math.ceil(max(math.ceil(bx1) - math.floor(bx0), math.ceil(by1) - math.floor(by0))
                            / settings.mosaic_blocks))
    cx0, cy0 = item["crop"][:2]
    xs = [(x - cx0) * item["scale"] for x in range(math.floor(bx0), math.ceil(bx1), cell)][1:]
    ys = [(y - cy0) * item["scale"] for y in range(math.floor(by0), math.ceil(by1), cell)][1:]
    return ([x - tile_origin[0] for x in xs], [y - tile_origin[1] for y in ys])


def looks(sheet: Image.Image, item: dict, source: np.ndarray, settings) -> tuple[str, dict]:
    """What the tile of ``item`` shows inside its box: visible | solid | mosaic | blur | ? (and why)."""
    x, y, w, h = item["tile"]
    tile = np.asarray(sheet.crop((x, y, x + w, y + h)).convert("RGB"))
    cx0, cy0, cx1, cy1 = item["crop"]
    ref = np.asarray(Image.fromarray(source[cy0:cy1, cx0:cx1]).resize((w, h), Image.LANCZOS))
    bx0, by0, bx1, by1 = item["box"]
    box = (bx0 - x, by0 - y, bx1 - x, by1 - y)
    inside = _inside(tile.shape, box, settings.shape == "ellipse")   # masking.py draws every box so
    g, gr = _grey(tile), _grey(ref)
    xs, ys = _grid(item, settings, (0, 0))
    m = {"detail": _detail(g, inside), "detail_source": _detail(gr, inside), "std": float(tile[inside].std(axis=0).max()),
         "diff": float(np.abs(tile[inside].astype(int) - ref[inside].astype(int)).mean()),
         "blocky": _blockiness(g, inside, xs, ys), "pixels": int(inside.sum())}
    if m["detail"] > 0.6 * m["detail_source"] and m["diff"] < 15:
        return "visible", m
    if m["std"] < 5 and np.abs(tile[inside].mean(axis=0) - settings.color).max() < 10:
        return "solid", m
    if m["blocky"] > 2.5:
        return "mosaic", m
    if m["detail"] < 0.35 * m["detail_source"] and m["blocky"] < 2:
        return "blur", m
    return "?", m


def _read_sheet(path: Path) -> tuple[Image.Image, dict]:
    index = json.loads(path.with_suffix(".json").read_text("utf-8"))
    sheet = Image.open(path)
    sheet.load()
    assert [sheet.width, sheet.height] == index["size"] and index["sheet"] == path.name
    return sheet, index


def _check_tiles(sheet: Image.Image, index: dict, folder: Path, method: str, settings) -> list[str]:
    """Every picture tile shows what the render does there: masked with ``method``, or visible."""
    seen, sources = [], {}
    for item in index["items"]:
        if item["kind"] == "voice":
            assert "box" not in item
            continue
        key = (item["clip"], item["frame"])
        if key not in sources:
            sources[key] = _source_frame(folder / item["clip"], item["frame"], tuple(item["frame_size"]))
        # the tile holds what the source frame holds at the index's crop
        got, why = looks(sheet, item, sources[key], settings)
        want = "visible" if item["visible"] else method
        assert got == want, f"{item['kind']} {item['clip']} {item['ref']}: shows {got}, expected {want}: {why}"
        assert item["visible"] or why["detail_source"] > 2.5, f"nothing to hide under {item['ref']}: {why}"
        seen.append(item["ref"])
    return seen


# -- tests ---------------------------------------------------------------------------------------
def test_sheet_lists_every_track_of_every_clip_and_everything_masked(episode, tmp_path):
    folder, spans, tracks, woman = episode
    settings = load_settings("mosaic")
    overrides = _overrides(folder, spans)
    voices = place(overrides.voices, list(spans.values()), ["clip", "clip"], overrides.path)
    items = audit_items(tracks, settings, overrides, voices, {"1.mp4": 0.0, "2.mp4": 2.0})
    contact_sheet(tracks, spans, settings, overrides, path=tmp_path / "contact-sheet.jpg", items=items)
    sheet, index = _read_sheet(tmp_path / "contact-sheet.jpg")
    listed = {(i["clip"], i["ref"]) for i in index["items"] if i["kind"] == "face"}
    analysed = {(n, t.id) for n, ft in tracks.items() for t in ft.tracks}
    assert listed == analysed and len(analysed) >= 4 and {c for c, _ in listed} == {"1.mp4", "2.mp4"}
    by_kind = {}
    for i in index["items"]:
        by_kind.setdefault(i["kind"], []).append(i)
    assert [(i["clip"], i["origin"]["label"]) for i in by_kind["tracked_region"]] == [("1.mp4", "leaves"),
                                                                                     ("2.mp4", "hand")]
    assert [(i["clip"], i["origin"]["label"], i["start"], i["end"]) for i in by_kind["region"]] == [
        ("2.mp4", "badge", 0.0, pytest.approx(0.6, abs=1 / 30 + 1e-6))]
    whole = by_kind["whole_frame"]
    assert len(whole) == 1 and whole[0]["start"] == pytest.approx(1.25, abs=1 / 30 + 1e-6)
    assert whole[0]["end"] == pytest.approx(1.5, abs=1 / 30 + 1e-6)
    assert [(v["clip"], v["method"], v["start"], v["end"]) for v in by_kind["voice"]] == [
        ("1.mp4", "high", 0.2, 0.9), ("2.mp4", "robot", 0.1, 1.6)]
    # the voice span of 2.mp4 sits 2 s into the episode
    assert by_kind["voice"][1]["episode"] == [pytest.approx(2.1), pytest.approx(3.6)]
    # the woman is listed as a face kept visible, by the review page's [[keep]]
    kept = [i for i in by_kind["face"] if i["visible"]]
    assert [(i["ref"], i["kept"][0]["asked_by"], i["kept"][0]["entry"]) for i in kept] == [
        (woman, "review page", "[[keep]] #1")]
    # every tile lies on the sheet, one tile each
    tiles = [tuple(i["tile"]) for i in index["items"]]
    assert len(set(tiles)) == len(tiles)
    for x, y, w, h in tiles:
        assert 0 <= x and 0 <= y and x + w <= sheet.width and y + h <= sheet.height


@pytest.mark.parametrize("method", ["mosaic", "blur", "solid"])
def test_each_tile_is_masked_with_the_preset_used(episode, tmp_path, method):
    folder, spans, tracks, woman = episode
    settings = load_settings(method)
    overrides = _overrides(folder, spans)
    contact_sheet(tracks, spans, settings, overrides, path=tmp_path / "contact-sheet.jpg")
    sheet, index = _read_sheet(tmp_path / "contact-sheet.jpg")
    assert index["preset"]["method"] == method
    seen = _check_tiles(sheet, index, folder, method, settings)
    assert woman in seen and "[[mask]] #4" in seen and len(seen) == len(index["items"])


def test_report_lists_voices_regions_and_who_asked(episode):
    folder, spans, tracks, woman = episode
    settings = load_settings("mosaic")
    overrides = _overrides(folder, spans)
    voices = place(overrides.voices, list(spans.values()), ["clip", "clip"], overrides.path)
    report = redaction_report(tracks, settings, overrides, audit_items(tracks, settings, overrides, voices))
    json.dumps(report)                                           # report.json can hold it as it is
    lines = (folder / "masks.toml").read_text("utf-8").splitlines()
    headers = {}
    for n, line in enumerate(lines, 1):
        m = re.match(r"\[\[(\w+)\]\]", line)
        if m:
            headers.setdefault(m.group(1), []).append(n)
    rows = report["masked"]
    manual = [r for r in rows if r["kind"] != "face"]
    for r in manual:
        section, number = re.match(r"\[\[(\w+)\]\] #(\d+)", r["ref"]).groups()
        assert r["asked_by"] == "masks.toml" and r["origin"]["line"] == headers[section][int(number) - 1], r
        assert r["origin"]["file"] == str(folder / "masks.toml") and r["end"] > r["start"]
    faces = [r for r in rows if r["kind"] == "face"]
    assert all(r["asked_by"] == "face detector" and r["origin"]["model_sha256"] == tracks[r["clip"]].model_sha256
               for r in faces)
    # the hand is followed from 0.3 s until the cut to the test pattern at 1.2 s, then flagged
    hand = next(r for r in manual if r["kind"] == "tracked_region" and r["clip"] == "2.mp4")
    assert hand["start"] == pytest.approx(0.3, abs=0.04)
    assert hand["flagged"] and 1.15 <= hand["flagged"][0]["seconds"][0] <= 1.3, hand
    leaves = next(r for r in manual if r["kind"] == "tracked_region" and r["clip"] == "1.mp4")
    assert not leaves.get("flagged") and leaves["end"] == pytest.approx(2.0, abs=0.04)
    voices_rows = [r for r in rows if r["kind"] == "voice"]
    assert [(r["ref"], r["method"], r["origin"]["label"] if "label" in r["origin"] else "") for r in voices_rows] == [
        ("[[voice]] #1", "high", "witness"), ("[[voice]] #2", "robot", "")]


def test_whole_frame_span_is_hidden_to_its_corners_with_an_ellipse_preset(episode, tmp_path):
    """An ellipse preset shapes faces only: a whole-frame span (and a drawn region) is hidden to its corners."""
    folder, spans, tracks, _ = episode
    settings = load_settings("blur")
    assert settings.shape == "ellipse"
    contact_sheet(tracks, spans, settings, _overrides(folder, spans), path=tmp_path / "contact-sheet.jpg")
    sheet, index = _read_sheet(tmp_path / "contact-sheet.jpg")
    whole = next(i for i in index["items"] if i["kind"] == "whole_frame")
    x, y, w, h = whole["tile"]
    tile = np.asarray(sheet.crop((x, y, x + w, y + h)).convert("RGB")).astype(int)
    cx0, cy0, cx1, cy1 = whole["crop"]
    source = _source_frame(folder / whole["clip"], whole["frame"], tuple(whole["frame_size"]))
    ref = np.asarray(Image.fromarray(source[cy0:cy1, cx0:cx1]).resize((w, h), Image.LANCZOS)).astype(int)
    corner = (slice(3, 15), slice(3, 15))      # inside the outline, in the top-left corner
    assert np.abs(tile[corner] - ref[corner]).mean() > 15, "the corner of the frame shows the source"


def test_render_publishes_the_sheet_and_report_of_everything_masked(episode):
    """``cadre render`` end to end, the preset named by campaign.toml: the published sheet is blurred
    where the video is, lists every track of every clip, and report.json holds the same list."""
    from pipeline.orchestrator import RenderOptions, render_episode

    folder, spans, tracks, woman = episode
    (folder.parent / "campaign.toml").write_text('redaction = "blur"\n', "utf-8")
    (folder / "episode.toml").write_text('caption_style = "none"\n', "utf-8")
    try:
        render_episode(folder, RenderOptions(networks=("youtube-shorts",)))
    finally:
        (folder.parent / "campaign.toml").unlink()
        (folder / "episode.toml").unlink()
    out = folder.parent / "exports" / "ep"
    sheet, index = _read_sheet(out / "contact-sheet.jpg")
    report = json.loads((out / "youtube-shorts" / "report.json").read_text("utf-8"))
    plan = json.loads((out / "plan.json").read_text("utf-8"))
    red = report["redaction"]
    assert red["preset"] == {"name": "blur", "method": "blur", "requested_by": "campaign.toml",
                             "source": str(folder.parent / "campaign.toml")}
    assert index["preset"] == red["preset"]
    # one list: the report's rows are the sheet's rows, without the sheet's coordinates
    sheet_keys = {"tile", "box", "frame", "frame_size", "crop", "scale"}
    assert red["masked"] == [{k: v for k, v in i.items() if k not in sheet_keys} for i in index["items"]]
    # every track of every clip, as the report's per-clip analysis and as a new analysis finds them
    in_report = {(c, t["id"]) for c, data in red["clips"].items() for t in data["tracks"]}
    assert {(i["clip"], i["ref"]) for i in index["items"] if i["kind"] == "face"} == in_report == {
        (n, t.id) for n, ft in tracks.items() for t in ft.tracks}
    _check_tiles(sheet, index, folder, "blur", load_settings("blur"))
    # episode times from the published plan: clip offset + seconds into the clip
    offsets = {c["file"]: c["offset"] - c["start"] for c in plan["clips"] if c.get("kind", "clip") == "clip"}
    for row in red["masked"]:
        assert row["episode"] == [pytest.approx(offsets[row["clip"]] + row["start"], abs=1e-3),
                                  pytest.approx(offsets[row["clip"]] + row["end"], abs=1e-3)], row
    voices = [(r["clip"], r["method"], r["start"], r["end"]) for r in red["masked"] if r["kind"] == "voice"]
    assert voices == [(v["clip"], v["preset"], v["clip_start"], v["clip_end"]) for v in red["voices"]]
    assert {r["kind"] for r in red["masked"]} == {"face", "tracked_region", "region", "whole_frame", "voice"}


def test_report_names_who_chose_the_preset(tmp_path):
    from pipeline.faces.audit import preset_origin

    episode_dir = tmp_path / "campaign" / "ep"
    episode_dir.mkdir(parents=True)
    assert preset_origin(episode_dir, "mosaic", "mosaic")["requested_by"] == "default"
    (tmp_path / "campaign" / "campaign.toml").write_text('redaction = "blur"\n', "utf-8")
    assert preset_origin(episode_dir, "blur", "blur") == {"requested_by": "campaign.toml",
                                                           "source": str(tmp_path / "campaign" / "campaign.toml")}
    (episode_dir / "episode.toml").write_text('redaction = "solid"\n', "utf-8")
    assert preset_origin(episode_dir, "solid", "solid")["requested_by"] == "episode.toml"
    assert preset_origin(episode_dir, "mosaic", "solid") == {"requested_by": "--redact mosaic",
                                                              "source": "command line"}
    off = {"mode": "none", "requested_by": "--redact none", "source": "command line"}
    assert preset_origin(episode_dir, "none", "solid", off)["requested_by"] == "--redact none"


def test_a_face_kept_by_region_is_kept_in_both_parts_of_the_report(episode, tmp_path):
    """report.json's track rows and its ``masked`` list agree on which faces stay visible, whether a
    [[keep]] names the track or a region around it."""
    folder, spans, tracks, woman = episode
    t = next(t for t in tracks["2.mp4"].tracks if t.id == woman)
    cx, cy = (t.boxes[0][0] + t.boxes[0][2]) / 2, (t.boxes[0][1] + t.boxes[0][3]) / 2
    masks = tmp_path / "masks.toml"
    masks.write_text(f'[[keep]]\nclip = "2.mp4"\nregion = [{cx - 0.05:.3f}, {cy - 0.05:.3f}, {cx + 0.05:.3f}, '
                     f'{cy + 0.05:.3f}]\n', "utf-8")
    overrides = load_overrides(masks, list(spans))
    report = redaction_report(tracks, load_settings("mosaic"), overrides,
                              audit_items(tracks, load_settings("mosaic"), overrides))
    visible = {(m["clip"], m["ref"]) for m in report["masked"] if m["kind"] == "face" and m["visible"]}
    rows = {(c, r["id"]) for c, clip in report["clips"].items() for r in clip["tracks"] if r["kept_visible"]}
    assert ("2.mp4", woman) in visible and rows == visible
