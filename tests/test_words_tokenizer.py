"""One tokenizer (issue 27): Whisper pieces become spoken words in one place
(``captions/words.spoken_groups``), and captions, corrections, bleeping, spelling and the review
page all read words through it. A bleeped name is never heard nor read behind an elision, long or
short, straight or curly apostrophe."""
from __future__ import annotations

import json

import pytest

from pipeline.captions.corrections import machine_tokens
from pipeline.captions.spelling import is_unknown
from pipeline.captions.words import display_words, split_elision, spoken_groups
from pipeline.review.state import _tokens as review_tokens
from pipeline.sound.bleep import PLACEHOLDER, censor, spans
from pipeline.speech.transcript import Word
from tests.test_bleep import audio_of, rms
from tests.test_review_fixtures import make_episode

ELIDED = ["d'", "l'", "qu'", "jusqu'", "lorsqu'", "puisqu'", "quoiqu'", "presqu'", "quelqu'",
          "d’", "lorsqu’", "puisqu’", "jusqu’", "quoiqu’", "presqu’", "quelqu’"]


def pieces(*texts: str, step: float = 0.3) -> list[Word]:
    return [Word(round(i * step, 3), round(i * step + 0.25, 3), t, 0.9) for i, t in enumerate(texts)]


# how Whisper may cut "<elision>Amélie": faster-whisper's " lorsqu" + "'Amélie", the whole word,
# openai-whisper's " lorsqu'" + " Amélie", or the name itself cut in two
def whisper_cuts(elision: str) -> list[list[Word]]:
    stem, apo = elision[:-1], elision[-1]
    return [pieces(" Il", " vient", f" {stem}", f"{apo}Amélie", " arrive"),
            pieces(" Il", " vient", f" {elision}Amélie", " arrive"),
            pieces(" Il", " vient", f" {elision}", " Amélie", " arrive"),
            pieces(" Il", " vient", f" {stem}", f"{apo}Am", "élie", " arrive")]


@pytest.mark.parametrize("elision", ELIDED)
def test_a_name_behind_any_elision_is_one_spoken_word_and_is_bleeped(elision):
    for words in whisper_cuts(elision):
        shown = [w.word for w in display_words(words)]
        assert shown == ["Il", "vient", f"{elision}Amélie", "arrive"], shown
        out = censor(words, ["Amélie"])
        assert [w.word.strip() for w in out] == ["Il", "vient", f"{elision}{PLACEHOLDER}", "arrive"]
        (bleep,) = spans(out)                               # the audio under the whole word is bleeped
        assert bleep.start <= words[2].start and bleep.end >= words[-2].end
        assert [t.text for t in machine_tokens(words)] == shown     # corrections read the same words


def test_jusqu_a_and_possessive_and_phrases():
    w = pieces(" jusqu", "'à", " Amélie", ".", " Amélie", "'s", " car", " Marie", "-Amélie")
    out = display_words(censor(w, ["Amélie"]))
    assert [x.word for x in out] == ["jusqu'à", PLACEHOLDER + ".", PLACEHOLDER + "'s", "car", "Marie-Amélie"]
    out = censor(pieces(" chez", " lorsqu’", " Amélie", " Dupont", " vient"), ["amelie dupont"])
    assert [x.word.strip() for x in out] == ["chez", f"lorsqu’{PLACEHOLDER}", "vient"]


def test_one_tokenizer_groups_indices_in_time_order_and_keeps_cues_apart():
    w = pieces(" aujourd", "'hui", " 3", ",360", " États", "-Unis", " «", " oui", " »")
    groups = spoken_groups(w)
    assert [g for g, _ in groups] == [[0, 1], [2, 3], [4, 5], [6, 7, 8]]
    assert [x.word for _, x in groups] == ["aujourd'hui", "3,360", "États-Unis", "« oui »"]
    assert split_elision("lorsqu’Amélie") == ("lorsqu’", "Amélie") and split_elision("aujourd'") == ("", "aujourd'")


def test_review_page_stars_the_name_behind_a_long_elision():
    tokens = review_tokens("Il vient lorsqu'Amélie arrive, puisqu’Amélie parle", set(), ["Amélie"])
    assert [t["text"] for t in tokens if t["bleep"]] == ["lorsqu'Amélie", "puisqu’Amélie"]


def test_spelling_knows_long_elisions_and_ignores_bleeped_words():
    assert not is_unknown("lorsqu'il", set()) and not is_unknown("puisqu’elle", set())
    assert not is_unknown(f"lorsqu'{PLACEHOLDER}", set())


def test_render_bleeps_a_name_behind_a_long_elision_in_sound_captions_and_plan(tmp_path):
    """A real render: the person's SRT says "lorsqu'Amélie" and "puisqu’Amélie"; bleep = ["Amélie"]
    mutes both in the published audio and stars them in the sidecars and plan.json."""
    from pipeline.orchestrator import RenderOptions, render_episode

    srt = ("1\n00:00:00,100 --> 00:00:00,900\nlorsqu'Amélie part\n\n"
           "2\n00:00:01,000 --> 00:00:01,900\nil dit puisqu’Amélie\n")
    folder = make_episode(tmp_path / "c", srt=srt, toml='bleep = ["Amélie"]\nbleep_sound = "mute"\n')
    render_episode(folder, RenderOptions(networks=("youtube-shorts",), out_dir=tmp_path / "out"))
    out = tmp_path / "out" / "ep" / "youtube-shorts"
    for name in ("ep.srt", "ep.vtt"):
        text = (out / name).read_text("utf-8")
        assert "Amélie" not in text and f"lorsqu'{PLACEHOLDER}" in text and f"puisqu’{PLACEHOLDER}" in text
    assert "Amélie" not in (tmp_path / "out" / "ep" / "plan.json").read_text("utf-8")
    bleeps = json.loads((out / "report.json").read_text("utf-8"))["redaction"]["bleeps"]["spans"]
    assert len(bleeps) == 2
    a = audio_of(out / "ep.mp4")
    for b in bleeps:
        assert rms(a[int((b["start"] + 0.05) * 48000):int((b["end"] - 0.05) * 48000)]) < 0.002
    assert bleeps[0]["end"] < 0.9 and bleeps[1]["start"] > 1.1
    assert rms(a[int(0.92 * 48000):int(1.08 * 48000)]) > 0.05          # "part ... il" is heard
