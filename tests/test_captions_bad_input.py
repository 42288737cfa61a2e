"""Bad input in a person's SRT correction: shown literally or wrapped, never a box, a style code or
a libass error. The correction goes the way render takes it: parse_srt -> apply_corrections ->
burned ASS (drawn by the real libass) and SRT/VTT sidecars."""
from __future__ import annotations

import re

import pysubs2

from pipeline.captions.ass import write_ass
from pipeline.captions.corrections import apply_corrections
from pipeline.captions.sidecars import cues, write_sidecars
from pipeline.captions.styles import load_style
from pipeline.speech.transcript import Segment, Transcript, Word, parse_srt
from tests.test_ass import HALF, frame, ink, no_system_fonts  # noqa: F401  (autouse: no system fonts)
from tests.test_captions_rules import assert_synced, check_subtitles

LONG = " ".join(["interpellation"] * 20)            # 299 characters on one line
SRT = f"""1
00:00:00,000 --> 00:00:02,000
Appel {{\\fs200}} à témoins <script>alert(1)</script>

2
00:00:02,500 --> 00:00:03,000


3
00:00:03,500 --> 00:00:09,000
{LONG}

4
00:00:10,000 --> 00:00:12,000
Merci \U0001F009 à vous 🚨
"""


def machine() -> Transcript:
    words = [Word(0.1 + 0.3 * i, 0.35 + 0.3 * i, " " + w, 0.9) for i, w in enumerate("Appel à témoins".split())]
    return Transcript("fr", [Segment(0.1, 1.0, "Appel à témoins", words)])


def corrected() -> list[Word]:
    cues = parse_srt(SRT)
    assert len(LONG) >= 299 and cues[1].text == ""
    return apply_corrections(machine(), cues).words


def test_bad_srt_correction_in_sidecars(tmp_path):
    words = corrected()
    srt, vtt = tmp_path / "e.srt", tmp_path / "e.vtt"
    write_sidecars(words, srt, vtt, language="fr")
    s, v = srt.read_text("utf-8"), vtt.read_text("utf-8")
    assert "{\\" not in s and "<script>" not in s                       # no style code, no tag
    assert parse_srt(s)[0].text.replace("\n", " ") == "Appel {\\fs200} à témoins <script>alert(1)</script>"
    assert "&lt;script&gt;" in v and "<script>" not in v
    assert "\U0001F009" in s and "🚨" in s                               # sidecars keep every character
    for path in (srt, vtt):   # a 300-character correction in a short cue is read fast, never late
        worst = check_subtitles(pysubs2.load(str(path)), "srt")
        assert (worst["lines_over"], worst["overlaps"]) == (0, 0), (path.name, worst)
    assert_synced(cues(words, "fr"), "correction")
    assert sum(s.count("interpellation") for s in [s]) == 20              # the long line is wrapped, not cut


def test_bad_srt_correction_burned(tmp_path):
    size = (540, 960)
    style = load_style("social")
    ass = tmp_path / "c.ass"
    report = write_ass(corrected(), style, HALF, ass, size=size, language="fr")
    assert [g["codepoint"] for g in report["left_out_glyphs"]] == ["U+1F009"]   # no font has it
    text = ass.read_text("utf-8")
    body = "\n".join(e.text for e in pysubs2.load(str(ass)))
    assert re.search(r"(?<!\\)\{\\fs200", body) is None                 # the typed tag is escaped
    assert "\\{\\\u2060fs200\\}" in body and "🚨" in text
    assert sum(e.text.count("interpellation") for e in pysubs2.load(str(ass))) == 20
    bare = frame(size, 0.5)
    drawn = ink(bare, frame(size, 0.5, ass))                            # libass draws it (no error)
    assert drawn.sum() > 500
    ys = drawn.nonzero()[0]
    assert ys.max() - ys.min() < 3 * style.size                          # \fs200 did not apply
