"""Edits land in the hand-edited files, keep a person's comments, and never leave a broken file."""
from __future__ import annotations

import pytest
import tomllib
from click.testing import CliRunner

pytest.importorskip("tomlkit", reason="cadre review needs tomlkit (pip install 'cadre[review]')")

from pipeline.core.errors import CadreError  # noqa: E402
from pipeline.review import edits  # noqa: E402
from pipeline.speech.transcript import parse_srt  # noqa: E402
from tests.test_review_fixtures import make_episode  # noqa: E402


def test_cues_round_trip_through_the_srt_render_reads(tmp_path):
    cues = edits.parse_cues([{"start": 1.0, "end": 2.5, "text": "  Deux  lignes\nici "},
                             {"start": 0.0, "end": 0.8, "text": "Première {\\b1} a\\Nb"},
                             {"start": 3.0, "end": 4.0, "text": "   "}], "x.srt")
    path = tmp_path / "c.fr.srt"
    assert edits.write_srt(path, cues) and not edits.write_srt(path, cues)      # unchanged: not rewritten
    back = parse_srt(path.read_text("utf-8"))
    assert [(c.start, c.end) for c in back] == [(0.0, 0.8), (1.0, 2.5)]        # sorted, empty cue deleted
    assert back[1].text == "Deux lignes\nici"


@pytest.mark.parametrize("bad", [[{"start": 2, "end": 1, "text": "x"}], [{"start": -1, "end": 1, "text": "x"}],
                                 [{"start": "0", "end": 1, "text": "x"}], [{"start": 0, "end": 1, "text": "x" * 501}], {}])
def test_bad_cues_are_refused(bad):
    with pytest.raises(CadreError):
        edits.parse_cues(bad, "x.srt")


def test_replace_whole_words_and_case():
    cues = [edits.CueEdit(0, 1, "Dupond et dupond, Dupondel")]
    assert edits.replace_in(cues, "dupond", "Dupont", True, False)[0][0].text == "Dupont et Dupont, Dupondel"
    assert edits.replace_in(cues, "Dupond", "X", False, True)[1] == 2


def test_masks_toml_keeps_comments_and_refuses_invalid_entries(tmp_path):
    folder = make_episode(tmp_path)
    from pipeline.review.session import ReviewSession

    session = ReviewSession(folder)
    masks = folder / "masks.toml"
    masks.write_text("# decided with the legal team\n[[mask]]\nclip = \"1.mp4\"\nregion = [0.1, 0.1, 0.2, 0.2]\n")
    track = session.analyses[0].faces.tracks[0].id
    edits.set_track_kept(masks, "1.mp4", track, True, session.check_masks)
    assert masks.read_text().startswith("# decided with the legal team")
    assert tomllib.loads(masks.read_text())["keep"][0]["track"] == track
    before = masks.read_text()
    with pytest.raises(CadreError, match="matches no face track"):
        edits.set_track_kept(masks, "1.mp4", "t-nonexistent", True, session.check_masks)
    with pytest.raises(CadreError, match="empty"):
        edits.add_mask(masks, "1.mp4", [0.5, 0.5, 0.5, 0.9], 0, None, "", session.check_masks)
    assert masks.read_text() == before                                          # left as it was
    edits.remove_mask(masks, 0, session.check_masks)
    assert "mask" not in tomllib.loads(masks.read_text())


def test_bleep_terms_go_to_episode_toml(tmp_path):
    folder = make_episode(tmp_path)
    toml = folder / "episode.toml"
    check = lambda: None  # noqa: E731
    assert edits.add_bleep(toml, " Dupont ", check) and not edits.add_bleep(toml, "DUPONT", check)
    assert tomllib.loads(toml.read_text())["bleep"] == ["Dupont"]
    assert tomllib.loads(toml.read_text())["title"] == "Revue"
    assert edits.remove_bleep(toml, "dupont", check) and "bleep" not in tomllib.loads(toml.read_text())


def test_cli_review_export(tmp_path):
    from pipeline.cli import main

    folder = make_episode(tmp_path / "c")
    out = CliRunner().invoke(main, ["review", str(folder), "--export"])
    assert out.exit_code == 0, out.output
    page = tmp_path / "c" / "exports" / "ep" / "review-ep.html"
    assert page.is_file() and str(page) in out.output
    assert "Bonjour monsieur Dupond" in page.read_text("utf-8")
    assert not (folder / "exports").exists()                                    # nothing inside the episode


def test_whole_frame_mask_from_the_page_lands_in_masks_toml(tmp_path):
    """The page's "Mask whole frame" button: a [[mask]] with whole_frame = true over the chosen
    span, read back by the render's own loader as a whole-frame mask."""
    from pipeline.faces.overrides import load_overrides
    from pipeline.review.server import ReviewServer
    from tests.test_review_security import request

    folder = make_episode(tmp_path)
    srv = ReviewServer(folder, proxy=False).start()
    try:
        status, body, _ = request(srv, f"/{srv.token}/api/mask", "POST", {"Content-Type": "application/json"},
                                  {"clip": "1.mp4", "whole_frame": True, "start": 0.5, "end": 1.5, "label": "victime"})
        assert status == 200, body
    finally:
        srv.stop()
    entry = tomllib.loads((folder / "masks.toml").read_text())["mask"][0]
    assert entry["whole_frame"] is True and "region" not in entry and (entry["start"], entry["end"]) == (0.5, 1.5)
    (override,) = load_overrides(folder / "masks.toml", ["1.mp4"]).for_clip("1.mp4")
    assert override.kind == "mask_frame" and override.active(1.0) and not override.active(1.6)


def test_entries_added_on_the_page_are_credited_to_the_review_page(tmp_path):
    """The audit's "who asked" (report.json, contact sheet): what the page adds says it came from it,
    what a person wrote in masks.toml by hand says masks.toml."""
    from pipeline.faces.audit import _asked, entry_origins
    from pipeline.review.session import ReviewSession

    folder = make_episode(tmp_path)
    session = ReviewSession(folder)
    masks = folder / "masks.toml"
    masks.write_text('[[mask]]\nclip = "1.mp4"\nregion = [0.1, 0.1, 0.2, 0.2]\n', "utf-8")
    edits.add_mask(masks, "1.mp4", [0.5, 0.5, 0.7, 0.9], 0, 1.0, "plaque", session.check_masks)
    edits.add_voice(masks, "1.mp4", 0.2, 0.8, "low", "témoin", session.check_masks)
    origins = entry_origins(masks)
    assert _asked(origins, "[[mask]] #1")[0] == "masks.toml"
    assert _asked(origins, "[[mask]] #2")[0] == "review page"
    assert _asked(origins, "[[voice]] #1")[0] == "review page"
