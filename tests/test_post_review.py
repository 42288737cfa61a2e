"""The post on the review page, in Chromium: each network's post as published with its checks (a
blocked one says so), the copy button, and an edit saved to episode.toml that the checks see."""
from __future__ import annotations

import pytest
import tomllib

from tests.test_review_browser import chromium, clear_status, review_page, wait_saved
from tests.test_review_fixtures import make_episode

EVIL = "<img src=x onerror=\"window.__xss=4\">"


@pytest.fixture(scope="module")
def post_page(tmp_path_factory):
    exe = chromium()
    root = tmp_path_factory.mktemp("post-review") / "campaign"
    folder = make_episode(root, toml=(
        '[post]\ntext = "Un cycliste a été renversé près de la gare. Merci à @prefet35."\n'
        'hashtags = ["#Gendarmerie"]\ntitle = "Appel à témoins"\n'
        "[post.networks.tiktok]\n"
        f"cta = '{EVIL} Appelez le 18.'\n"))
    (root / "handles.toml").write_text('[[handle]]\nhandle = "prefet35"\nnetwork = "all"\nvetted_by = "Adj. Martin"\n'
                                       "vetted_on = 2026-11-02\n", "utf-8")
    yield from review_page(folder, exe, "post-review.png")


def test_each_networks_post_and_its_checks_are_shown(post_page):
    page, _ = post_page
    page.wait_for_selector('.post[data-network="youtube-shorts"]')
    yt = page.text_content('.post[data-network="youtube-shorts"]')
    assert "Appel à témoins" in yt and "Merci à @prefet35." in yt and "#Gendarmerie" in yt
    assert "every post check passed" in yt
    tiktok = page.locator('.post[data-network="tiktok"]')
    assert "blocked, not published" in tiktok.locator("h3").text_content()
    assert "phone number '18' is not in the campaign's allowed list" in tiktok.text_content()
    assert EVIL in tiktok.locator(".post-text").text_content()          # shown as text, never run
    assert page.locator(".post img").count() == 0 and page.evaluate("window.__xss") is None
    assert not page.errors, page.errors


def test_copy_button_copies_the_post(post_page):
    page, _ = post_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    clear_status(page)
    page.click('.post[data-network="youtube-shorts"] button.copy')
    page.wait_for_selector("#status:has-text('copied'), #status:has-text('Ctrl+C')")
    status = page.text_content("#status")
    if "copied" in status:
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("Appel à témoins\n\nUn cycliste a été renversé") and copied.endswith("#Gendarmerie\n")
    else:                                    # no clipboard in this browser: the text is selected instead
        assert "Un cycliste" in page.evaluate("String(window.getSelection())")


def test_editing_the_post_saves_episode_toml_and_rechecks(post_page):
    page, folder = post_page
    clear_status(page)
    box = page.locator('.post[data-network="tiktok"]')
    box.locator("details.post-edit summary").click()
    field = box.locator("label.post-field", has_text="call to action")
    field.locator("input").fill("Vous avez vu quelque chose ? Appelez le 17.")
    field.locator("button").click()
    wait_saved(page)
    data = tomllib.loads((folder / "episode.toml").read_text("utf-8"))
    assert data["post"]["networks"]["tiktok"]["cta"] == "Vous avez vu quelque chose ? Appelez le 17."
    assert data["post"]["text"].startswith("Un cycliste")                    # the rest kept
    page.wait_for_selector('.post[data-network="tiktok"] .check.ok')
    assert "blocked" not in page.locator('.post[data-network="tiktok"] h3').text_content()
