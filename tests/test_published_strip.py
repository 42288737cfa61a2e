"""Issue 26, misses a reviewer can see: the contact sheet and the review page show evenly spaced
frames as published (reframed, masked, captioned) with every mask outlined, and the review
player's picture before it plays is a published frame, not the source.

The clip is a labelled photograph (``/work/shared/media/images``, boxes from ``faces_gt.json``)
cut to 9:16 with ffmpeg, so the published frame is the clip scaled 2x and each labelled box maps
to output pixels by arithmetic alone. The real CenterFace finds both faces; a ``[[keep]]`` leaves
the lower one unmasked, standing for a face the detector missed. The episode is rendered for
real and the sheet read back as a user would: the JPEG, located through its own index.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.core.ffmpeg import run

PHOTO = "dlib_2009_004587.jpg"                 # 400x500, two labelled faces
CROP = (119, 0, 281, 500)                      # x, y, w, h: a 9:16 window holding both
CLIP = (540, 960)
OUT = (1080, 1920)
KEPT = [0.45, 0.5, 0.85, 0.8]                  # clip fractions around the lower face: left visible
SRT = "1\n00:00:00,000 --> 00:00:00,900\nAppel à témoins\n"


def _faces(media: Path) -> list[tuple[float, float, float, float]]:
    """The labelled faces as output pixels (x0, y0, x1, y1): top face first."""
    gt = json.loads((media / "images" / "faces_gt.json").read_text("utf-8"))["images"][PHOTO]["faces"]
    x, y, w, h = CROP
    out = [((fx - x) / w * OUT[0], (fy - y) / h * OUT[1], (fx + fw - x) / w * OUT[0], (fy + fh - y) / h * OUT[1])
           for fx, fy, fw, fh in gt]
    return sorted(out, key=lambda b: b[1])


def _reference(media: Path) -> np.ndarray:
    """The published picture with nothing masked and no captions: the crop scaled to 1080x1920."""
    x, y, w, h = CROP
    with Image.open(media / "images" / PHOTO) as im:
        return np.asarray(im.convert("RGB").crop((x, y, x + w, y + h)).resize(OUT, Image.LANCZOS))


def _scaled(image: np.ndarray, width: int) -> np.ndarray:
    h = round(width * image.shape[0] / image.shape[1])
    return np.asarray(Image.fromarray(image).resize((width, h), Image.LANCZOS))


def _inner(box, scale: float, dx: float = 0, dy: float = 0, keep: float = 0.6) -> tuple[int, int, int, int]:
    """The middle ``keep`` of an output-pixel ``box``, scaled and moved into an image's pixels."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * keep / 2, (box[3] - box[1]) * keep / 2
    return (round(dx + (cx - hw) * scale), round(dy + (cy - hh) * scale),
            round(dx + (cx + hw) * scale), round(dy + (cy + hh) * scale))


def flat(image: np.ndarray, box) -> float:
    """Share of the pixels in ``box`` whose 3x3 neighbourhood is flat (grey std < 2.5): a mosaic's
    cells are flat inside, a face is not."""
    x0, y0, x1, y1 = box
    g = image[y0:y1, x0:x1].astype(float).mean(axis=2)
    win = np.lib.stride_tricks.sliding_window_view(g, (3, 3))
    return float((win.std(axis=(2, 3)) < 2.5).mean())


@pytest.fixture(scope="module")
def rendered(shared_media, tmp_path_factory):
    from pipeline.orchestrator import RenderOptions, render_episode

    folder = tmp_path_factory.mktemp("published") / "ep"
    folder.mkdir()
    x, y, w, h = CROP
    run(["-loop", "1", "-framerate", "30", "-i", str(shared_media / "images" / PHOTO),
         "-f", "lavfi", "-i", "sine=f=440:d=2:sample_rate=48000",
         "-filter_complex", f"[0:v]crop={w}:{h}:{x}:{y},scale={CLIP[0]}:{CLIP[1]},setsar=1,format=yuv420p[v]",
         "-map", "[v]", "-map", "1:a", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16",
         "-c:a", "aac", str(folder / "1.mp4")], source=folder, what="fixture")
    (folder / "1.fr.srt").write_text(SRT, "utf-8")
    (folder / "episode.toml").write_text('networks = ["youtube-shorts"]\nredaction = "mosaic"\n', "utf-8")
    (folder / "masks.toml").write_text(f'[[keep]]\nclip = "1.mp4"\nregion = {KEPT}\n', "utf-8")
    # the sheet's strip is the frames the render masked and encoded, kept as it went: the render
    # decodes the clip once (the old sheet decoded its frames a second time, before the render)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipeline.published.decode_frames", _no_second_decode)
        render_episode(folder, RenderOptions(networks=("youtube-shorts",)))
    return folder, folder.parent / "exports" / "ep"


def _no_second_decode(*args, **kwargs):
    raise AssertionError("the contact sheet decoded its frames again instead of keeping the render's")


def _sheet(out: Path) -> tuple[np.ndarray, dict]:
    index = json.loads((out / "contact-sheet.json").read_text("utf-8"))
    with Image.open(out / "contact-sheet.jpg") as im:
        sheet = np.asarray(im.convert("RGB"))
    assert [sheet.shape[1], sheet.shape[0]] == index["size"]
    return sheet, index


def _outlined(sheet: np.ndarray, box) -> float:
    """Share of the edge of ``box`` (sheet pixels) drawn in green, looked for 3 px deep inside it."""
    import math

    x0, y0, x1, y1 = math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])
    g = sheet.astype(int)
    green = (g[..., 1] - np.maximum(g[..., 0], g[..., 2])) > 50
    edges = [green[y0:y0 + 3, x0:x1].any(axis=0), green[y1 - 3:y1, x0:x1].any(axis=0),
             green[y0:y1, x0:x0 + 3].any(axis=1), green[y0:y1, x1 - 3:x1].any(axis=1)]
    return float(np.concatenate(edges).mean())


def test_the_contact_sheet_shows_published_frames_with_the_masks_outlined(rendered, shared_media):
    _, out = rendered
    sheet, index = _sheet(out)
    strip = index["published"]
    assert 8 <= len(strip) <= 12                                  # a 2 s episode: the floor of 8 frames
    frames = [p["frame"] for p in strip]
    assert frames == sorted(frames) and frames[0] < 10 and frames[-1] > 50   # spread over the whole clip
    top, low = _faces(shared_media)
    ref = _reference(shared_media)
    for p in strip:
        x, y, w, h = p["tile"]
        assert y >= 0 and y + h <= sheet.shape[0] and x + w <= sheet.shape[1]
        assert w / h == pytest.approx(9 / 16, abs=0.01) and p["scale"] == pytest.approx(w / OUT[0], abs=1e-3)
        picture = sheet[y:y + h, x:x + w]
        unmasked = _scaled(ref, w)
        # the top face is masked: a mosaic inside its labelled box, where the photo has detail
        inner = _inner(top, p["scale"])
        tile_inner = _inner(top, p["scale"], x, y)
        assert flat(unmasked, inner) < 0.35, "the reference face should have detail"
        assert flat(sheet, tile_inner) > 0.6, f"frame {p['frame']}: the top face is not a mosaic in the strip"
        # its mask is outlined: an indexed box holds the face, and its edge is drawn in green
        holding = [b for b in p["masks"] if b[0] <= tile_inner[0] and b[1] <= tile_inner[1]
                   and b[2] >= tile_inner[2] and b[3] >= tile_inner[3]]
        assert holding, f"frame {p['frame']}: no mask box listed around the top face"
        assert max(_outlined(sheet, b) for b in holding) > 0.8, "the mask is not outlined"
        # the lower face, kept visible (as a face the detector missed would be), is shown as it is
        # published: not outlined, with the photo's detail (looked at where no caption is burned)
        lcx, lcy = x + (low[0] + low[2]) / 2 * p["scale"], y + (low[1] + low[3]) / 2 * p["scale"]
        assert not any(b[0] <= lcx <= b[2] and b[1] <= lcy <= b[3] for b in p["masks"])
        if p["seconds"] > 1.0:
            diff = np.abs(sheet[slice(*_inner(low, p["scale"], x, y)[1::2]), slice(*_inner(low, p["scale"], x, y)[::2])]
                          .astype(int) - unmasked[slice(*_inner(low, p["scale"])[1::2]), slice(*_inner(low, p["scale"])[::2])])
            assert diff.mean() < 12, "the face left unmasked is not shown as published"


def test_the_reviews_poster_is_a_masked_published_frame(rendered, shared_media):
    pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
    pytest.importorskip("tomlkit", reason="cadre review needs tomlkit (pip install 'cadre[review]')")
    from pipeline.review.server import ReviewServer
    from tests.test_review_security import request

    folder, _ = rendered
    server = ReviewServer(folder, proxy=False).start()
    try:
        status, body, _ = request(server, f"/{server.token}/api/state")
        key = json.loads(body)["published"]
        conn_body = _get(server, f"/{server.token}/poster.jpg?k={key}")
        strip = json.loads(request(server, f"/{server.token}/api/published")[1])
        strip_jpeg = _get(server, f"/{server.token}/published.jpg?k={key}")
    finally:
        server.stop()
    poster = np.asarray(Image.open(io.BytesIO(conn_body)).convert("RGB"))
    assert poster.shape == (960, 540, 3)
    top, low = _faces(shared_media)
    unmasked = _scaled(_reference(shared_media), 540)
    assert flat(unmasked, _inner(top, 0.5)) < 0.35
    assert flat(poster, _inner(top, 0.5)) > 0.6, "the poster shows the face unmasked: it is not the published frame"
    # and it is captioned: white caption ink the unmasked picture does not have, away from the faces
    ink = (poster.min(axis=2) > 225) & (unmasked.min(axis=2) < 200)
    assert ink[500:].sum() > 300, "the poster has no captions"
    # the page's strip is the same published frames, with the masks outlined
    assert len(strip["frames"]) >= 8 and strip["key"] == key
    with Image.open(io.BytesIO(strip_jpeg)) as im:
        assert im.width > 0 and all(f["tile"][0] + f["tile"][2] <= im.width for f in strip["frames"])
        page_strip = np.asarray(im.convert("RGB"))
    first = strip["frames"][0]
    assert any(_outlined(page_strip, b) > 0.8 for b in first["masks"])


def _get(server, path: str) -> bytes:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    conn.request("GET", path, headers={"Host": f"127.0.0.1:{server.port}"})
    res = conn.getresponse()
    data = res.read()
    conn.close()
    assert res.status == 200 and res.getheader("content-type") == "image/jpeg", data[:200]
    return data


def test_with_nothing_masked_the_sheet_still_shows_the_published_frames(rendered, shared_media, tmp_path):
    """Nothing masked (here masking turned off; a detector that found no one is the same): the
    sheet is still written, and its strip shows the faces as they are published, with no outline."""
    from pipeline.orchestrator import RenderOptions, render_episode

    folder, _ = rendered
    render_episode(folder, RenderOptions(networks=("youtube-shorts",), redact="none", out_dir=tmp_path / "out"))
    sheet, index = _sheet(tmp_path / "out" / "ep")
    assert index["items"] == [] and len(index["published"]) >= 8
    top, _ = _faces(shared_media)
    for p in index["published"]:
        x, y, w, h = p["tile"]
        assert p["masks"] == []
        assert flat(sheet, _inner(top, p["scale"], x, y)) < 0.35, "the unmasked face is not shown as published"

def test_a_clips_last_frame_is_shown_as_published(rendered, shared_media, tmp_path):
    """The strip (and ``cadre preview``) can land on a clip's last frame, which a one-frame decode
    window at the end of the file does not give: it is decoded, masked and shown like any other."""
    from pipeline.review.preview import preview_frame

    folder, _ = rendered
    png = preview_frame(folder, 59 / 30, tmp_path / "last.png")         # frame 59 of 60
    image = np.asarray(Image.open(png).convert("RGB"))
    top, _ = _faces(shared_media)
    assert image.shape == (1920, 1080, 3)
    assert flat(image, _inner(top, 1.0)) > 0.6, "the last frame's face is not masked"

def _layout(*kinds_and_frames):
    """A master's layout as :func:`strip_frames` reads it: each clip's kind and frame count, laid end to end."""
    from types import SimpleNamespace

    starts, total, analyses = [], 0, []
    for kind, frames in kinds_and_frames:
        starts.append(total)
        total += frames
        analyses.append(SimpleNamespace(kind=kind, span=SimpleNamespace(frame_count=frames)))
    return SimpleNamespace(analyses=analyses, timeline=SimpleNamespace(starts=starts))


def test_the_strip_is_evenly_spaced_8_to_12_frames_and_at_least_one_per_clip():
    from pipeline.published import strip_frames

    # an intro bumper (never in the strip), a 10 s clip, a 0.2 s clip, a 50 s clip, an outro
    setup = _layout(("intro", 90), ("clip", 300), ("clip", 6), ("clip", 1500), ("outro", 60))
    frames = strip_frames(setup)
    assert len(frames) in (12, 13)                             # 60 s: the ceiling, plus the short clip's own
    assert all(90 <= n < 90 + 1806 for n in frames)            # the episode's own clips only
    assert any(390 <= n < 396 for n in frames)                 # the 0.2 s clip is not skipped
    long_clip = [n for n in frames if n >= 396]
    steps = np.diff(long_clip)
    assert steps.max() - steps.min() <= 1                       # evenly spaced
    assert len(strip_frames(_layout(("clip", 60)))) == 8        # a 2 s episode: the floor
    many = _layout(*[("clip", 15)] * 30)                        # 30 clips of half a second: one each
    picked = strip_frames(many)
    assert sorted({n // 15 for n in picked}) == list(range(30))


def _published_file_frames(path: Path, frames: list[int], size=(540, 960)) -> dict[int, np.ndarray]:
    """Frames ``frames`` of the published file, decoded in order from its start, at ``size``."""
    import subprocess

    from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe

    pick = "+".join(f"eq(n\\,{n})" for n in frames)
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-i", str(path), "-vf", f"select={pick},scale={size[0]}:{size[1]}",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:"],
                         capture_output=True, check=True).stdout
    w, h = size
    return {n: np.frombuffer(raw[k * w * h * 3:(k + 1) * w * h * 3], np.uint8).reshape(h, w, 3).astype(int)
            for k, n in enumerate(frames)}


def test_each_strip_frame_is_the_published_frame_of_that_number(tmp_path):
    """Frame n of the strip is frame n of the published file, not its neighbour: alone (a seek
    whose time, rounded up to the millisecond, used to skip a frame) or several in one run."""
    from pipeline.master import plan_master
    from pipeline.orchestrator import RenderOptions, prepare, render_episode
    from pipeline.published import published_frames
    from tests.conftest import make_clip

    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="540x960", duration=3.0, source="testsrc2",
              vcodec=("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "300"))
    options = RenderOptions(networks=("youtube-shorts",), redact="none", caption_style="none")
    render_episode(ep, options)
    published = tmp_path / "exports" / "ep" / "youtube-shorts" / "ep.mp4"
    setup = plan_master(prepare(ep, options), tmp_path, parts=False)
    wanted = [2, 5, 56, 59, 89]
    shown = [f for n in wanted for f in published_frames(setup, [n])] + published_frames(setup, wanted)
    around = sorted({k for n in wanted for k in (n - 1, n, n + 1) if 0 <= k < 90})
    truth = _published_file_frames(published, around)
    for f in shown:
        image = _scaled(f.image, 540).astype(int)
        diffs = {k: np.abs(image - truth[k]).mean() for k in (f.frame - 1, f.frame, f.frame + 1) if k in truth}
        assert min(diffs, key=diffs.get) == f.frame and diffs[f.frame] < 6, f"frame {f.frame}: {diffs}"
