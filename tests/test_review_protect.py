"""Issue 17 on the review page, in a real browser (Playwright driving Debian's Chromium): mark a
voice span and hear it disguised; see the path a moving region follows and fix it at a frame.
Each action is checked on disk (``masks.toml`` as render reads it) and in what the person sees
or hears (the drawn path against the plate's true position, the pitch of the audio played).

The episode: ``1.mp4`` a face with a 440 Hz tone, ``2.mp4`` a textured plate that moves right
5 px a frame and jumps elsewhere at 1.0 s (``tests.test_review_fixtures.plate_at``), so the
tracker loses it there and a person must fix it.
"""
from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
import tomllib

pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package (pip install playwright)")

from pipeline.faces.overrides import load_overrides  # noqa: E402
from pipeline.sound.voice import PRESETS  # noqa: E402
from tests.test_review_browser import (  # noqa: E402
    chromium,
    clear_status,
    masks,
    review_page,
    wait_saved,
)
from tests.test_review_fixtures import make_episode, moving_plate_clip, plate_box  # noqa: E402

TONE = 440.0


@pytest.fixture(scope="module")
def page_and_folder(tmp_path_factory):
    exe = chromium()
    folder = make_episode(tmp_path_factory.mktemp("review-protect"))
    moving_plate_clip(folder / "2.mp4")
    region = [round(v, 4) for v in plate_box(0)]
    (folder / "masks.toml").write_text(f"# the car of the witness\n[[mask]]\nclip = \"2.mp4\"\nregion = {json.dumps(region)}"
                                       "\nmoving = true\nlabel = \"plaque\"\n", "utf-8")
    yield from review_page(folder, exe, "review-protect.png")


def pitch(wav: bytes) -> tuple[float, float]:
    """(dominant frequency in Hz, duration in s) of WAV bytes."""
    with wave.open(io.BytesIO(wav)) as w:
        rate, n, ch = w.getframerate(), w.getnframes(), w.getnchannels()
        x = np.frombuffer(w.readframes(n), np.int16).reshape(-1, ch)[:, 0].astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x)), n / rate


def played(page) -> bytes:
    """The audio the page's player was given, fetched as the player fetched it."""
    page.wait_for_selector("#voice-audio[data-duration]", timeout=60000)
    src = page.get_attribute("#voice-audio", "src")
    response = page.request.get(page.url.split("?")[0].rstrip("/") + "/" + src)
    assert response.ok, response.text()
    return response.body()


def overlay(page) -> dict:
    """What the path layer draws: the box shown at this frame and the path's points."""
    rect = page.locator("#path-layer rect.tracked")
    box = [float(rect.get_attribute(k)) for k in ("x", "y", "width", "height")]
    points = page.get_attribute("#path-layer polyline.path", "points").split()
    return {"box": [box[0], box[1], box[0] + box[2], box[1] + box[3]], "points": len(points),
            "at": float(page.get_attribute("#path-layer", "data-at"))}


def covers(outer, inner, slack=0.002) -> bool:
    return (outer[0] <= inner[0] + slack and outer[1] <= inner[1] + slack
            and outer[2] >= inner[2] - slack and outer[3] >= inner[3] - slack)


def clear_error(page) -> None:
    page.evaluate("(s => { s.textContent = ''; s.className = ''; })(document.getElementById('status'))")


def show_frame(page, clip: str, at: float) -> None:
    page.select_option("#mask-clip", clip)
    page.fill("#mask-at", str(at))
    page.click("#mask-load")
    page.wait_for_selector(f'#frame-box[data-ready="{at}"]')


def draw(page, box) -> None:
    r = page.locator("#frame").bounding_box()
    page.mouse.move(r["x"] + box[0] * r["width"], r["y"] + box[1] * r["height"])
    page.mouse.down()
    page.mouse.move(r["x"] + (box[0] + box[2]) / 2 * r["width"], r["y"] + (box[1] + box[3]) / 2 * r["height"], steps=3)
    page.mouse.move(r["x"] + box[2] * r["width"], r["y"] + box[3] * r["height"], steps=3)
    page.mouse.up()


# -- voices ------------------------------------------------------------------------------------
def test_mark_a_voice_span_and_hear_it_disguised(page_and_folder):
    page, folder = page_and_folder
    page.select_option("#voice-clip", "1.mp4")
    page.fill("#voice-start", "0.2")
    page.fill("#voice-end", "1.6")
    page.select_option("#voice-preset", "high")
    page.fill("#voice-label", "témoin")
    clear_status(page)
    page.click("#voice-add")
    wait_saved(page)
    assert masks(folder)["voice"] == [{"clip": "1.mp4", "start": 0.2, "end": 1.6, "preset": "high", "label": "témoin",
                                       "note": "marked in cadre review"}]
    assert masks(folder)["mask"][0]["label"] == "plaque"                                   # the rest untouched
    assert (folder / "masks.toml").read_text("utf-8").startswith("# the car of the witness")
    assert len(load_overrides(folder / "masks.toml", ["1.mp4", "2.mp4"]).voices) == 1      # valid for render
    row = page.locator("#voices li.voice")
    assert row.count() == 1 and "1.mp4 0.2–1.6 s: high témoin" in row.text_content()

    row.locator("button.listen").click()
    disguised = played(page)
    freq, seconds = pitch(disguised)
    assert seconds == pytest.approx(1.4, abs=0.01)
    assert float(page.get_attribute("#voice-audio", "data-duration")) == pytest.approx(1.4, abs=0.02)
    assert freq == pytest.approx(TONE * PRESETS["high"][0], rel=0.06)      # 1.30x, wandering by 4 % at most

    row.locator("button.original").click()
    freq, _ = pitch(played(page))
    assert freq == pytest.approx(TONE, rel=0.01)


def test_a_span_is_marked_from_the_players_moment(page_and_folder):
    """The player runs on the episode timeline (clip 1 is 2 s long, then clip 2); the marks are
    seconds of the clip shown."""
    page, _ = page_and_folder
    page.locator('.clip[data-clip="1.mp4"] .cue[data-index="1"] button.seek').click()     # 1.0 s of clip 1
    page.click("#voice-mark-start")
    assert page.input_value("#voice-clip") == "1.mp4" and page.input_value("#voice-start") == "1.00"
    page.evaluate("(v => { v.currentTime = 2.5; })(document.getElementById('proxy'))")
    page.click("#voice-mark-end")
    assert page.input_value("#voice-clip") == "2.mp4" and page.input_value("#voice-end") == "0.50"


def test_listen_before_adding_uses_the_chosen_preset(page_and_folder):
    page, folder = page_and_folder
    before = (folder / "masks.toml").read_text("utf-8")
    page.select_option("#voice-clip", "1.mp4")
    page.fill("#voice-start", "0.3")
    page.fill("#voice-end", "1.2")
    page.select_option("#voice-preset", "low")
    page.click("#voice-listen")
    freq, seconds = pitch(played(page))
    assert seconds == pytest.approx(0.9, abs=0.01)
    assert freq == pytest.approx(TONE * PRESETS["low"][0], rel=0.06)
    assert (folder / "masks.toml").read_text("utf-8") == before             # listening writes nothing


@pytest.mark.parametrize("clip,start,end,expected", [
    ("1.mp4", "1.7", "5.0", "is outside clip '1.mp4'"),
    ("2.mp4", "0.0", "1.0", "has no audio"),
    ("1.mp4", "1.0", "1.8", "overlaps"),
])
def test_a_bad_voice_span_is_refused_in_one_line_and_the_file_is_unchanged(page_and_folder, clip, start, end, expected):
    page, folder = page_and_folder
    before = (folder / "masks.toml").read_text("utf-8")
    page.select_option("#voice-clip", clip)
    page.fill("#voice-start", start)
    page.fill("#voice-end", end)
    clear_error(page)
    page.click("#voice-add")
    page.wait_for_selector("#status.error", timeout=30000)
    status = page.text_content("#status")
    assert expected in status and "[[voice]] #2" in status and "\n" not in status
    assert (folder / "masks.toml").read_text("utf-8") == before


def test_remove_a_voice_span(page_and_folder):
    page, folder = page_and_folder
    clear_status(page)
    page.click("#voices li.voice button.remove")
    wait_saved(page)
    assert "voice" not in masks(folder)
    assert page.locator("#voices li.voice").count() == 0


# -- moving regions ----------------------------------------------------------------------------
def test_the_tracked_path_is_drawn_over_the_frame(page_and_folder):
    page, _ = page_and_folder
    row = page.locator('#masks li.mask.moving[data-index="0"]')
    assert "follows" in row.text_content()
    page.fill("#mask-at", "0.5")
    row.locator("button.path").click()
    page.wait_for_selector('#frame-box[data-ready="0.5"] #path-layer rect.tracked', timeout=60000)
    shown = overlay(page)
    assert shown["points"] == 60 and shown["at"] == pytest.approx(0.5)         # one point per frame of the clip
    assert covers(shown["box"], plate_box(15))                                 # the plate is under the mask
    # the jump at 1.0 s loses the plate: that stretch is drawn apart and offered for checking
    assert page.locator("#path-layer polyline.lost").count() == 1
    check = page.locator("#path-info button.check")
    assert check.count() == 1 and check.text_content().startswith("check 1–")
    check.click()                                                              # the frame where it was lost
    page.wait_for_selector('#frame-box[data-ready="1"] #path-layer[data-at="1"] rect.tracked')
    assert page.get_attribute("#mask-fix", "disabled") is not None             # nothing drawn yet


def test_fix_the_region_at_a_frame(page_and_folder):
    page, folder = page_and_folder
    show_frame(page, "2.mp4", 1.0)
    truth = plate_box(30)
    draw(page, truth)
    assert page.get_attribute("#mask-fix", "disabled") is None
    clear_status(page)
    page.click("#mask-fix")
    page.wait_for_selector("#status:has-text('saved to'), #status.error", timeout=120000)   # the tracker runs again
    assert "failed" not in page.text_content("#status"), page.text_content("#status")
    data = masks(folder)["mask"]
    assert len(data) == 2
    assert data[0]["end"] == 1.0
    assert data[0]["region"] == pytest.approx(plate_box(0), abs=1e-4)         # the first part as it was drawn
    fixed = data[1]
    assert (fixed["clip"], fixed["start"], fixed["moving"], fixed["label"]) == ("2.mp4", 1.0, True, "plaque")
    assert fixed["region"] == pytest.approx(truth, abs=0.01) and "end" not in fixed
    assert len(load_overrides(folder / "masks.toml", ["1.mp4", "2.mp4"]).entries) == 2
    # the page now follows the corrected entry from the fixed frame on, with nothing left to check
    page.wait_for_selector('#path-layer[data-index="1"][data-at="1"] rect.tracked', timeout=60000)
    assert covers(overlay(page)["box"], truth)
    show_frame(page, "2.mp4", 1.5)
    page.wait_for_selector('#path-layer[data-at="1.5"]')
    assert covers(overlay(page)["box"], plate_box(45))
    assert page.locator("#path-info button.check").count() == 0


def test_a_fix_smaller_than_8_px_is_refused_and_the_file_is_unchanged(page_and_folder):
    page, folder = page_and_folder
    before = (folder / "masks.toml").read_text("utf-8")
    show_frame(page, "2.mp4", 1.5)
    x, y = plate_box(45)[:2]
    draw(page, [x, y, x + 0.011, y + 0.016])                                  # about 7 x 6 px of the clip
    clear_error(page)
    page.click("#mask-fix")
    page.wait_for_selector("#status.error", timeout=30000)
    assert "smaller than 8 px" in page.text_content("#status")
    assert (folder / "masks.toml").read_text("utf-8") == before


def test_add_a_region_that_follows_what_it_covers(page_and_folder):
    page, folder = page_and_folder
    show_frame(page, "2.mp4", 0.0)
    draw(page, plate_box(0))
    page.check("#mask-moving")
    page.fill("#mask-start", "0")
    page.fill("#mask-end", "0.9")
    page.fill("#mask-label", "deuxième")
    clear_status(page)
    page.click("#mask-add")
    wait_saved(page)
    entry = masks(folder)["mask"][2]
    assert entry["moving"] is True and entry["end"] == 0.9 and entry["region"] == pytest.approx(plate_box(0), abs=0.01)
    assert page.locator('#masks li.mask.moving[data-index="2"] button.path').count() == 1


def test_the_offline_export_lists_voice_spans_and_moving_regions(page_and_folder, tmp_path):
    from pipeline.review.export import export_html
    from pipeline.review.session import ReviewSession

    page, folder = page_and_folder
    page.select_option("#voice-clip", "1.mp4")
    page.fill("#voice-start", "0.5")
    page.fill("#voice-end", "1.5")
    page.select_option("#voice-preset", "robot")
    page.fill("#voice-label", "<i>victime</i>")
    clear_status(page)
    page.click("#voice-add")
    wait_saved(page)
    text = export_html(ReviewSession(folder), tmp_path / "review.html", frames=False).read_text("utf-8")
    voices = text.split("<h2>Disguised voices</h2>")[1].split("<h2>")[0]
    assert "1.mp4" in voices and "0.5–1.5" in voices and "robot" in voices
    assert "&lt;i&gt;victime&lt;/i&gt;" in voices and "<i>" not in voices
    masks_part = text.split("<h2>Manual masks</h2>")[1].split("<h2>")[0]
    assert masks_part.count("follows what it covers") == 3
    assert "never approved" in text and "never published" in text


def test_no_script_errors_or_policy_violations(page_and_folder):
    page, _ = page_and_folder
    # the refused actions above answered 400, which the browser logs; nothing else may appear
    assert not [e for e in page.errors if "favicon" not in e and "status of 400" not in e], page.errors
    assert tomllib.loads((page_and_folder[1] / "masks.toml").read_text("utf-8"))
