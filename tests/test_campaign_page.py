"""Issue 20 (and 13's audit display): ``campaign.html`` as a community manager sees it, in Debian's
Chromium driven by Playwright with the network off.

A real two-episode campaign is rendered for TikTok and Snapchat: episode ``a`` is a real face
(scikit-image's astronaut) over real French speech (FLEURS), approved before the batch, so the
real Whisper leaves doubtful words and the real CenterFace finds the face; episode ``b`` is the
same face for 4.2 s with a person's captions and a bleeped name, too short for Snapchat, with the
face kept visible by a person (``masks.toml``), and never approved. The page is then read as a
person would: covers drawn, each network's row and the refused one's own reason, approval state,
masked thumbnails (their pixels compared with the same crop of the source frame), bleeps, doubtful
words with times, and links that open existing files.

A screenshot is kept in ``$CADRE_TEST_ARTIFACTS/campaign/`` (default ``.cache/test-artifacts/``).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import pipeline
from pipeline.campaign.page import clock
from pipeline.cli import main
from pipeline.core.ffmpeg import BASE_ARGS, ffmpeg_exe
from pipeline.speech.transcript import LOW_CONFIDENCE
from tests.conftest import SHARED_MEDIA
from tests.test_review_browser import ARGS, chromium, sync_api
from tests.test_review_fixtures import ARTIFACTS, face_clip

SPEECH = SHARED_MEDIA / "audio" / "fr" / "fr_fleurs_002.wav"
SRT = "1\n00:00:00,100 --> 00:00:01,900\nBonjour monsieur Dupond\n\n2\n00:00:02,000 --> 00:00:03,900\nIl habite rue des Lilas\n"

# each thumbnail's pixels, read back in the page through a canvas
READ_THUMBS = """() => [...document.querySelectorAll('section.episode img.thumb')].map(img => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const fig = img.closest('figure');
    return {episode: img.closest('section').dataset.episode, clip: fig.dataset.clip, ref: fig.dataset.ref,
            box: img.dataset.box, w: c.width, h: c.height,
            rgba: Array.from(g.getImageData(0, 0, c.width, c.height).data)};
})"""


def speech_clip(path: Path, wav: Path, size=(640, 360)) -> Path:
    """The astronaut's face on grey over a real speech recording, H.264 + AAC."""
    from skimage import data

    w, h = size
    frame = np.full((h, w, 3), 128, np.uint8)
    frame[:, (w - h) // 2:(w - h) // 2 + h] = np.asarray(Image.fromarray(data.astronaut()).resize((h, h), Image.LANCZOS))
    path.parent.mkdir(parents=True, exist_ok=True)
    png = path.with_name(".face.png")
    Image.fromarray(frame).save(png)
    subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-loop", "1", "-framerate", "30", "-i", str(png), "-i", str(wav),
                    "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-f", "mp4", str(path)], check=True)
    png.unlink()
    return path


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Path:
    if not SPEECH.is_file():
        pytest.skip(f"real French speech {SPEECH} is absent (the shared media folder sits beside the checkout)")
    root = tmp_path_factory.mktemp("campaign-page") / "campagne"
    speech_clip(root / "a" / "1.mp4", SPEECH)
    face_clip(root / "b" / "1.mp4", seconds=4.2)
    (root / "b" / "1.fr.srt").write_text(SRT, "utf-8")
    (root / "b" / "episode.toml").write_text('bleep = ["Dupond"]\n', "utf-8")
    (root / "b" / "masks.toml").write_text('[[keep]]\nclip = "1.mp4"\nregion = [0.3, 0.0, 0.7, 0.6]\n'
                                           'note = "the officer presenting"\n', "utf-8")
    (root / "campaign.toml").write_text('networks = ["tiktok", "snapchat"]\nlanguage = "fr"\n', "utf-8")
    pipeline.approve(root / "a", "Cne Martin")
    result = CliRunner().invoke(main, ["batch", str(root), "-j", "1"], catch_exceptions=False)
    assert result.exit_code == 3, result.output          # b is refused by Snapchat only
    return root


@pytest.fixture(scope="module")
def page(campaign):
    exe = chromium()
    html = campaign / "exports" / "campaign.html"
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(exe), args=ARGS)
        except Exception as exc:  # a broken browser install: say so rather than fail every test
            pytest.skip(f"Chromium at {exe} does not start under Playwright: {exc}")
        context = browser.new_context(offline=True, viewport={"width": 1300, "height": 1000})
        requests: list[str] = []
        context.on("request", lambda req: requests.append(req.url))
        pg = context.new_page()
        pg.goto(html.as_uri())
        pg.wait_for_load_state("load")
        pg.requests = requests
        yield pg
        (ARTIFACTS / "campaign").mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "campaign" / "campaign-page.png"), full_page=True)
        browser.close()


def section(page, episode: str):
    return page.locator(f'section.episode[data-episode="{episode}"]')


def row(page, episode: str, network: str):
    return section(page, episode).locator(f'tr[data-network="{network}"]')


def test_page_needs_nothing_but_itself(page, campaign):
    assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests
    assert page.locator("script").count() == 0
    assert [u for u in page.requests if u.startswith("file:")] == [(campaign / "exports" / "campaign.html").as_uri()]


def test_each_episode_shows_its_cover(page):
    for ep in ("a", "b"):
        cover = section(page, ep).locator("img.cover")
        assert cover.count() == 1
        assert cover.get_attribute("src").startswith("data:image/jpeg;base64,")
        assert cover.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > img.naturalWidth")


def test_each_network_has_its_row_and_the_refused_one_its_own_reason(page, campaign):
    snap = row(page, "b", "snapchat")
    assert snap.get_attribute("data-status") == "failed"
    assert "Snapchat Spotlight needs at least 5 s" in snap.inner_text()
    tiktok = row(page, "b", "tiktok")
    assert tiktok.get_attribute("data-status") == "done" and "Snapchat" not in tiktok.inner_text()
    for network in ("tiktok", "snapchat"):
        r = row(page, "a", network)
        assert r.get_attribute("data-status") == "done"
        report = json.loads((campaign / "exports" / "a" / network / "report.json").read_text("utf-8"))
        out = report["outputs"][0]
        text = r.inner_text()   # loudness and duration as measured on the published file
        assert f"{out['loudness']['integrated_lufs']:.1f} LUFS" in text and clock(out["duration_s"]) in text
        assert "checks passed" in text


def test_approval_and_last_publication(page):
    a = section(page, "a").locator(".head").inner_text()
    assert "approved by Cne Martin" in a and "the last publication is the approved version" in a
    assert "last approval in the audit log: Cne Martin" in a and "last published" in a
    b = section(page, "b").locator(".head").inner_text()
    assert "not approved" in b and "last published" in b
    assert "not approved" in row(page, "b", "tiktok").inner_text()
    a_row = row(page, "a", "tiktok").inner_text()
    assert "approved (this version)" in a_row and "not approved" not in a_row


def _source_frame(clip: Path, size) -> np.ndarray:
    w, h = size
    raw = subprocess.run([ffmpeg_exe(), *BASE_ARGS, "-i", str(clip), "-frames:v", "1", "-vf", f"scale={w}:{h}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def test_thumbnails_are_the_masked_faces_never_a_visible_one(page, campaign):
    thumbs = page.evaluate(READ_THUMBS)
    assert [t["episode"] for t in thumbs] == ["a"], "b's face was kept visible by a person: never pictured"
    assert "faces left visible by a person (not pictured here)" in section(page, "b").inner_text()
    index = json.loads((campaign / "exports" / "a" / "contact-sheet.json").read_text("utf-8"))
    for t in thumbs:
        item = next(i for i in index["items"] if i["clip"] == t["clip"] and i["ref"] == t["ref"])
        shown = np.array(t["rgba"], np.uint8).reshape(t["h"], t["w"], 4)[..., :3].astype(float)
        frame = _source_frame(campaign / "a" / t["clip"], item["frame_size"])
        x0, y0, x1, y1 = item["crop"]
        source = np.asarray(Image.fromarray(frame[y0:y1, x0:x1]).resize((t["w"], t["h"]), Image.LANCZOS)).astype(float)
        bx0, by0, bx1, by1 = (float(v) for v in t["box"].split(","))
        inner = (slice(int(by0) + 4, int(by1) - 4), slice(int(bx0) + 4, int(bx1) - 4))   # inside the outline
        around = np.ones(shown.shape[:2], bool)
        around[max(0, int(by0) - 3):int(by1) + 4, max(0, int(bx0) - 3):int(bx1) + 4] = False
        # the thumbnail is this frame's crop (its surroundings match the source)...
        assert np.abs(shown - source)[around].mean() < 10
        # ...and the face inside the box is not: masked, its detail gone
        assert np.abs(shown[inner] - source[inner]).mean() > 15

        def detail(im):
            g = im.mean(axis=2)
            return np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean()
        assert detail(shown[inner]) < 0.7 * detail(source[inner])


def test_doubtful_words_with_their_times(page, campaign):
    plan = json.loads((campaign / "exports" / "a" / "plan.json").read_text("utf-8"))
    doubtful = [w for w in plan["words"] if w["probability"] < LOW_CONFIDENCE and w["word"].strip() != "***"]
    assert doubtful, "Whisper was sure of every word of the FLEURS clip: the fixture no longer tests this"
    items = section(page, "a").locator("ul.doubtful li").all_inner_texts()
    assert len(items) == len(doubtful)
    for w, text in zip(doubtful, items):
        assert text.startswith(clock(w["start"])) and f"«{w['word'].strip()}»" in text, (w, text)
    assert "doubtful caption words: none" in section(page, "b").inner_text()   # a person's captions


def test_bleeps_show_time_and_context_never_the_term(page, campaign):
    report = json.loads((campaign / "exports" / "b" / "tiktok" / "report.json").read_text("utf-8"))
    span = report["redaction"]["bleeps"]["spans"][0]
    items = section(page, "b").locator("ul.bleeps li").all_inner_texts()
    assert len(items) == 1 and items[0].startswith(f"{clock(span['start'])}-{clock(span['end'])}")
    assert "monsieur *** Il" in items[0]
    assert "Dupond" not in page.content()


def test_links_open_existing_files(page, campaign):
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    files = [unquote(urlparse(h).path) for h in hrefs if h.startswith("file:")]
    assert all(Path(f).is_file() for f in files), [f for f in files if not Path(f).is_file()]
    exports = campaign / "exports"
    for ep, network in (("a", "tiktok"), ("a", "snapchat"), ("b", "tiktok")):
        for name in (f"{ep}.mp4", f"{ep}.srt", f"{ep}.vtt", "report.json"):
            assert str(exports / ep / network / name) in files, (ep, network, name)
    assert str(exports / "a" / "contact-sheet.jpg") in files and str(exports / "b" / "audit.jsonl") in files
    assert not any("/b/snapchat/" in f for f in files)
