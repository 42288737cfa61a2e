"""The review page in a real browser (Playwright driving Debian's Chromium), checking the files on
disk after each action: edit a caption and its timing, find and replace, toggle a face track,
draw a manual mask, bleep a word, approve. Text from the episode holding HTML is shown as text.

A screenshot of the page is kept in ``$CADRE_TEST_ARTIFACTS/review/`` (default
``.cache/test-artifacts/review/``).
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import tomllib
from PIL import Image

pytest.importorskip("starlette", reason="cadre review needs starlette, uvicorn and tomlkit (pip install 'cadre[review]')")
pytest.importorskip("uvicorn", reason="cadre review needs uvicorn (pip install 'cadre[review]')")
pytest.importorskip("tomlkit", reason="cadre review needs tomlkit (pip install 'cadre[review]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package "
                                                               "(pip install playwright; its own browser download is not used)")

from pipeline.captions.corrections import human_cues  # noqa: E402
from pipeline.review.server import ReviewServer  # noqa: E402
from tests.test_review_fixtures import ARTIFACTS, face_clip, make_episode  # noqa: E402

CHROMIUM = Path(os.environ.get("CADRE_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EVIL_TITLE = '<img src=x onerror="window.__xss=1">'
EVIL_LABEL = "<script>window.__xss=2</script>"
EVIL_WORD = "<b onmouseover=window.__xss=3>piège</b>"


def chromium() -> Path:
    """Debian's Chromium, installed by ``scripts/bootstrap --test`` (never by a test); else the tests skip."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/bootstrap .venv --test as root "
                    "(it runs apt-get install -y chromium chromium-driver), or set CADRE_CHROMIUM")
    return CHROMIUM


def machine_words_with_html(clip: Path) -> None:
    """A cached machine transcript for ``clip`` whose words hold HTML, one of them low-confidence."""
    from pipeline.core import cache
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.transcribe import CACHE_KIND, cache_key
    from pipeline.speech.transcript import Segment, Transcript, Word

    words = [Word(0.1, 0.5, " Bonjour", 0.95), Word(0.5, 0.9, " " + EVIL_WORD, 0.9), Word(0.9, 1.3, " Gendarmerie", 0.2)]
    transcript = Transcript("fr", [Segment(0.1, 1.3, "".join(w.word for w in words), words)])
    cache.store(CACHE_KIND, cache_key(clip, TranscribeOptions(language="fr")), transcript.to_dict())


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    exe = chromium()
    folder = make_episode(tmp_path_factory.mktemp("review-browser"))
    text = (folder / "episode.toml").read_text("utf-8").replace('title = "Revue"', f"title = '{EVIL_TITLE}'")
    (folder / "episode.toml").write_text(text, "utf-8")
    face_clip(folder / "2.mp4", seconds=1.5)
    machine_words_with_html(folder / "2.mp4")
    (folder / "masks.toml").write_text(f'# plates\n[[mask]]\nclip = "2.mp4"\nregion = [0.0, 0.8, 0.2, 1.0]\n'
                                       f"label = '{EVIL_LABEL}'\n", "utf-8")
    yield from review_page(folder, exe, "review-page.png")


def review_page(folder, exe, screenshot: str):
    """Serve ``folder``'s review page and yield ``(page, folder)`` in Chromium; the page's script
    errors are collected in ``page.errors``, and a screenshot is kept at the end."""
    server = ReviewServer(folder, proxy=False).start()
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(exe), args=ARGS)
        except Exception as exc:  # a broken browser install: say so rather than fail every test
            server.stop()
            pytest.skip(f"Chromium at {exe} does not start under Playwright: {exc}")
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(server.url)
        page.wait_for_selector(".cue")
        page.errors = errors
        yield page, folder
        ARTIFACTS.joinpath("review").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review" / screenshot), full_page=True)
        browser.close()
    server.stop()


def wait_saved(page) -> None:
    # selector waits: the page's CSP forbids eval, which Playwright's wait_for_function needs
    page.wait_for_selector("#status:has-text('saved to')", timeout=30000)
    assert "failed" not in page.text_content("#status")


def clear_status(page) -> None:
    page.evaluate("document.getElementById('status').textContent = ''")


def masks(folder: Path) -> dict:
    return tomllib.loads((folder / "masks.toml").read_text("utf-8"))


def test_episode_text_holding_html_is_shown_as_text_never_run(browser_page):
    page, _ = browser_page
    assert page.text_content("#title").startswith(EVIL_TITLE)
    assert EVIL_WORD in " ".join(page.locator('.clip[data-clip="2.mp4"] .w').all_text_contents())
    assert EVIL_LABEL in page.text_content("#masks")
    assert page.locator("#title img, .clip img, #masks script, .clip b").count() == 0
    page.hover('.clip[data-clip="2.mp4"] .w >> nth=1')
    assert page.evaluate("window.__xss") is None


def test_low_confidence_words_are_highlighted(browser_page):
    page, _ = browser_page
    low = page.locator('.clip[data-clip="2.mp4"] .w.low')
    assert low.count() == 1 and low.text_content() == "Gendarmerie"
    assert page.locator('.clip[data-clip="1.mp4"] .w.low').count() == 0    # a person's SRT: reviewed words


def test_edit_a_caption_saves_the_srt(browser_page):
    page, folder = browser_page
    clear_status(page)
    page.click('.clip[data-clip="1.mp4"] .cue[data-index="0"] .text')
    page.fill('.clip[data-clip="1.mp4"] .cue[data-index="0"] textarea', "Bonjour monsieur Dupont")
    page.press('.clip[data-clip="1.mp4"] .cue[data-index="0"] textarea', "Enter")
    wait_saved(page)
    cues = human_cues(folder / "1.fr.srt")
    assert [c.text for c in cues] == ["Bonjour monsieur Dupont", "Il habite rue des Lilas"]
    assert (cues[0].start, cues[0].end) == (0.1, 0.9)
    assert "Bonjour monsieur Dupont" in page.text_content('.clip[data-clip="1.mp4"] .cue[data-index="0"]')


def test_edit_a_caption_timing_saves_the_srt(browser_page):
    page, folder = browser_page
    clear_status(page)
    page.fill('.clip[data-clip="1.mp4"] .cue[data-index="1"] .end', "1.95")
    page.press('.clip[data-clip="1.mp4"] .cue[data-index="1"] .end', "Tab")
    wait_saved(page)
    cue = human_cues(folder / "1.fr.srt")[1]
    assert (cue.start, cue.end, cue.text) == (1.0, 1.95, "Il habite rue des Lilas")


def test_find_and_replace_across_the_episode(browser_page):
    page, folder = browser_page
    clear_status(page)
    page.fill("#find", "lilas")
    page.fill("#replace", "Roses")
    page.click("#replace-all")
    page.wait_for_selector("#status:has-text('Replaced 1')", timeout=30000)
    assert [c.text for c in human_cues(folder / "1.fr.srt")][1] == "Il habite rue des Roses"
    assert not (folder / "2.fr.srt").exists()      # nothing to replace there: the file is not created


def test_toggle_a_face_track_keep_then_mask(browser_page):
    page, folder = browser_page
    card = page.locator('.track[data-clip="1.mp4"]').first
    track = card.get_attribute("data-track")
    clear_status(page)
    card.click()
    wait_saved(page)
    data = masks(folder)
    assert data["keep"] == [{"clip": "1.mp4", "track": track, "note": "kept visible in cadre review"}]
    assert data["mask"][0]["label"] == EVIL_LABEL               # the person's entry is untouched
    assert (folder / "masks.toml").read_text("utf-8").startswith("# plates")   # and so is their comment
    assert "KEPT VISIBLE" in page.text_content(f'.track[data-track="{track}"]')
    clear_status(page)
    page.click(f'.track[data-track="{track}"]')
    wait_saved(page)
    assert "keep" not in masks(folder)
    assert "masked" in page.text_content(f'.track[data-track="{track}"]')


def test_draw_a_manual_mask(browser_page):
    page, folder = browser_page
    page.select_option("#mask-clip", "1.mp4")
    page.fill("#mask-at", "0.5")
    page.click("#mask-load")
    page.wait_for_selector("#frame-box[data-ready]")
    box = page.locator("#frame").bounding_box()
    page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.25 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.4 * box["height"], steps=4)
    page.mouse.move(box["x"] + 0.75 * box["width"], box["y"] + 0.6 * box["height"], steps=4)
    page.mouse.up()
    page.fill("#mask-start", "0.2")
    page.fill("#mask-end", "1.2")
    page.fill("#mask-label", "plaque")
    clear_status(page)
    page.click("#mask-add")
    wait_saved(page)
    entry = masks(folder)["mask"][1]
    assert entry["clip"] == "1.mp4" and entry["label"] == "plaque"
    assert (entry["start"], entry["end"]) == (0.2, 1.2)
    assert entry["region"] == pytest.approx([0.25, 0.25, 0.75, 0.6], abs=0.01)
    from pipeline.faces.overrides import load_overrides

    assert len(load_overrides(folder / "masks.toml", ["1.mp4", "2.mp4"]).entries) == 2   # valid for render


def test_bleep_a_word_by_clicking_it(browser_page):
    page, folder = browser_page
    page.check("#bleep-mode")
    clear_status(page)
    page.click('.clip[data-clip="1.mp4"] .cue[data-index="0"] .w >> text=Dupont')
    wait_saved(page)
    assert tomllib.loads((folder / "episode.toml").read_text("utf-8"))["bleep"] == ["Dupont"]
    page.uncheck("#bleep-mode")
    assert page.locator('.clip[data-clip="1.mp4"] .w.bleep').text_content() == "Dupont"
    assert "1 span(s) bleeped" in page.text_content("#bleeps")


def test_video_has_a_poster_and_a_caption_jumps_to_its_moment(browser_page):
    """Before the proxy is rendered the player, titled "as published", shows a published frame
    (the proxy's size, masked and captioned, never a source frame: issue 26), the strip of published
    frames is on the page, and each caption's play button moves the player to that caption on the
    episode timeline (clip 2 starts at 2 s)."""
    page, _ = browser_page
    poster = page.get_attribute("#proxy", "poster")
    assert poster and poster.startswith("poster.jpg?k=") and "frame?" not in poster
    base = page.url.split("?")[0].rstrip("/") + "/"
    response = page.request.get(base + poster, timeout=300000)
    assert response.ok and response.body()[:2] == b"\xff\xd8"               # a JPEG
    with Image.open(io.BytesIO(response.body())) as im:
        assert im.size == (540, 960)                                     # the proxy's picture, not the 640x360 clip
    strip = page.get_attribute("#published-strip", "src")
    assert strip and strip.startswith("published.jpg?k=")
    assert page.request.get(base + strip, timeout=300000).body()[:2] == b"\xff\xd8"
    cue = page.locator('.clip[data-clip="2.mp4"] .cue[data-index="0"]')
    start = float(cue.locator("input.start").input_value())
    cue.locator("button.seek").click()
    at = page.evaluate("document.getElementById('proxy').currentTime")
    assert at == pytest.approx(2.0 + start, abs=0.01)
    page.click("h1")                   # keyboard focus on the page, not a control
    page.keyboard.press("l")           # one frame forward
    stepped = page.evaluate("document.getElementById('proxy').currentTime")
    assert stepped == pytest.approx(at + 1 / 30, abs=0.002)
    page.keyboard.press("j")           # and back
    assert page.evaluate("document.getElementById('proxy').currentTime") == pytest.approx(at, abs=0.002)
    track = page.locator(".track-row").first
    assert track.locator(".track").count() == 1 and track.locator("button.seek").count() == 1


def test_a_face_tracks_play_button_seeks_to_its_first_frame(browser_page):
    """Clip 2 starts at 2 s on the episode timeline; its face's play button seeks the player there."""
    page, _ = browser_page
    page.locator('.clip[data-clip="1.mp4"] .cue[data-index="1"] button.seek').click()     # somewhere else first
    row = page.locator(".track-row").filter(has=page.locator('.track[data-clip="2.mp4"]'))
    start = float(row.locator("button.seek").text_content().strip("▶ s"))
    row.locator("button.seek").click()
    assert page.evaluate("document.getElementById('proxy').currentTime") == pytest.approx(2.0 + start, abs=0.01)


def test_space_and_k_play_and_pause_the_proxy(browser_page):
    """With the proxy rendered (Update proxy), space and K start and stop it as in an editor."""
    page, _ = browser_page
    page.click("#proxy-update")
    page.wait_for_selector("#proxy-state:has-text('ready')", timeout=600000)
    page.wait_for_selector("#proxy[src]")
    paused = "document.getElementById('proxy').paused"
    page.evaluate("(v => { v.currentTime = 0.5; })(document.getElementById('proxy'))")
    page.click("h1")                   # keyboard focus on the page, not a control
    assert page.evaluate(paused)
    page.keyboard.press(" ")
    assert not page.evaluate(paused)
    page.keyboard.press("k")
    assert page.evaluate(paused)
    page.keyboard.press("K")
    assert not page.evaluate(paused)
    page.keyboard.press(" ")
    assert page.evaluate(paused)
    at = page.evaluate("document.getElementById('proxy').currentTime")
    page.keyboard.press("l")
    assert page.evaluate(paused)
    assert page.evaluate("document.getElementById('proxy').currentTime") == pytest.approx(at + 1 / 30, abs=0.002)


def test_approve_records_reviewer_and_hash(browser_page):
    from pipeline.orchestrator import RenderOptions, prepare
    from pipeline.signoff.approval import approval_status, read_approval

    page, folder = browser_page
    page.fill("#approver", "Cne Martin")
    page.click("#approve")
    page.wait_for_selector("#approval:has-text('approved by')", timeout=60000)
    record = read_approval(folder)
    assert record.by == "Cne Martin" and len(record.hash) == 64
    assert approval_status(prepare(folder, RenderOptions(require_approval=False))).approved
    assert "edits" in record.inputs and "1.fr.srt" in record.inputs["edits"]


def test_last_approval_and_last_publication_from_the_audit_log(browser_page):
    """Issue 13: the page shows who approved, when, the fingerprint and whether it still holds, and the
    last publication (when, networks, files with their sha256) as audit.jsonl records them."""
    from pipeline.core.cache import sha256_file
    from pipeline.orchestrator import RenderOptions, render_episode
    from pipeline.signoff.approval import read_approval

    page, folder = browser_page
    record = read_approval(folder)
    page.reload()
    page.wait_for_selector("#last-approval .validity")
    assert page.text_content("#last-approval .who").startswith("Cne Martin, " + record.at)
    assert page.text_content("#last-approval .fingerprint") == record.hash[:12] + "…"
    assert page.text_content("#last-approval .validity").startswith("still valid")
    assert page.text_content("#last-publication") == "never published"

    render_episode(folder, RenderOptions(networks=("tiktok",)))
    page.reload()
    page.wait_for_selector("#last-publication .files li")
    out = folder.parent / "exports" / "ep" / "tiktok"
    assert page.text_content("#last-publication .networks") == "tiktok"
    assert page.text_content("#last-publication .approved") == "as approved"
    shown = {li.locator(".file").text_content(): li.locator(".sha").text_content()
             for li in page.locator("#last-publication .files li").all()}
    on_disk = {str(p.relative_to(out.parent)): sha256_file(p)[:12] + "…" for p in out.rglob("*")
               if p.is_file() and not p.name.startswith(".")}
    assert shown == on_disk and "tiktok/ep.mp4" in shown

    clear_status(page)                 # an edit after the approval: the page says it no longer holds
    page.fill('.clip[data-clip="1.mp4"] .cue[data-index="0"] .end', "0.95")
    page.press('.clip[data-clip="1.mp4"] .cue[data-index="0"] .end', "Tab")
    wait_saved(page)
    validity = page.text_content("#last-approval .validity")
    assert validity.startswith("no longer valid") and "1.fr.srt" in validity
    assert page.text_content("#last-publication .approved") == "as approved"     # what was published was approved


def test_no_script_errors_or_policy_violations(browser_page):
    page, _ = browser_page
    assert page.evaluate("window.__xss") is None
    assert not [e for e in page.errors if "favicon" not in e], page.errors
