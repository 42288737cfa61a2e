"""Display words: transcript tokens as a reader sees them (pipeline/captions/words.py).

The token sequences are shaped exactly as faster-whisper gives them on French speech (checked on
../shared/media/audio/fr: `` d`` + ``'accord``, `` l`` + ``'Usoc,``, `` États`` + ``-Unis,``,
`` est`` + ``-ce``, `` 3`` + ``,360``, `` bien`` + `` ?``), plus the other shape openai-whisper and
people's edits give (`` d'`` + `` accord``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.captions.layout import layout
from pipeline.captions.styles import load_style
from pipeline.captions.typography import NNBSP
from pipeline.captions.words import caption_language, display_text, display_words
from pipeline.speech.transcript import Word

AUDIO = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "audio"


def tokens(*texts: str, step: float = 0.2) -> list[Word]:
    return [Word(round(i * step, 3), round(i * step + 0.15, 3), t, 0.9 - i * 0.01) for i, t in enumerate(texts)]


def shown(*texts: str, language: str = "fr") -> str:
    return display_text(tokens(*texts), language)


# (Whisper tokens, display text)
FRENCH = [
    ((" Nous", " sommes", " d", "'accord"), "Nous sommes d'accord"),
    ((" L", "'accident", " a", " eu", " lieu"), "L'accident a eu lieu"),
    ((" de", " l", "'Usoc,", " comité"), "de l'Usoc, comité"),
    ((" qu", "'à", " la", " révocation"), "qu'à la révocation"),
    ((" pour", " t", "'être", " mieux"), "pour t'être mieux"),
    ((" ajouté", " qu", "'on", " ne"), "ajouté qu'on ne"),
    ((" demander", " d", "'assumer"), "demander d'assumer"),
    ((" c", "'est", " vrai"), "c'est vrai"),
    ((" j", "'ai", " vu"), "j'ai vu"),
    ((" il", " n", "'a", " rien"), "il n'a rien"),
    ((" il", " s", "'est", " enfui"), "il s'est enfui"),
    ((" il", " m", "'a", " dit"), "il m'a dit"),
    ((" jusqu", "'à", " minuit"), "jusqu'à minuit"),
    ((" lorsqu", "'il", " est", " arrivé"), "lorsqu'il est arrivé"),
    ((" puisqu", "'elle", " refuse"), "puisqu'elle refuse"),
    ((" aujourd", "'hui"), "aujourd'hui"),
    ((" aujourd'hui",), "aujourd'hui"),
    ((" d", "’étudier"), "d’étudier"),                         # curly apostrophe
    ((" l", "’arme"), "l’arme"),
    ((" d'", " étudier"), "d'étudier"),                        # elision ends the token, space before the word
    ((" l'", " arme"), "l'arme"),
    ((" qu'", " il"), "qu'il"),
    ((" jusqu’", " au", " bout"), "jusqu’au bout"),
    ((" d", " 'étudier"), "d'étudier"),                        # space before the apostrophe (a person's edit)
    ((" L'", " État"), "L'État"),
    ((" des", " États", "-Unis,", " selon"), "des États-Unis, selon"),
    ((" Bonjour,", " est", "-ce", " que"), "Bonjour, est-ce que"),
    ((" Jean", "-Pierre", " Martin"), "Jean-Pierre Martin"),
    ((" Jean-", " Pierre"), "Jean-Pierre"),
    ((" Marie", " -Claire"), "Marie-Claire"),
    ((" peut", "-être"), "peut-être"),
    ((" a", "-t", "-il", " dit"), "a-t-il dit"),
    ((" est", " 3", ",360", " et"), "est 3,360 et"),
    ((" le", " 3", "061"), "le 3061"),
    ((" 12", " 000", " appels"), "12 000 appels"),             # two spoken groups stay two words
    ((" vous", " êtes", " bien", " ?"), f"vous êtes bien{NNBSP}?"),
    ((" Stop", " !"), f"Stop{NNBSP}!"),
    ((" il", " a", " dit", " :", " «", " non", " »"), f"il a dit{NNBSP}: «{NNBSP}non{NNBSP}»"),
    ((" qu", "'«", " on", " ne"), None),                        # odd shape: only checked for no " '"
    ((" l", "'", "accident"), "l'accident"),
    ((" le", " 3", "-1"), "le 3-1"),
]


@pytest.mark.parametrize("toks,expected", FRENCH, ids=[" ".join(t).strip() for t, _ in FRENCH])
def test_french_tokens_read_as_words(toks, expected):
    text = shown(*toks)
    assert not re.search(r"\s['’]", text), text
    if expected is not None:
        assert text == expected


def test_at_least_thirty_french_cases():
    assert len([t for t, e in FRENCH if e is not None]) >= 30


ENGLISH = [
    ((" I", " don", "'t", " know"), "I don't know"),
    ((" it", "'s", " fine"), "it's fine"),
    ((" it", " 's", " fine"), "it's fine"),
    ((" we", "'re", " here"), "we're here"),
    ((" I", "'ll", " go"), "I'll go"),
    ((" they", "'ve", " gone"), "they've gone"),
    ((" I", "'m", " sure"), "I'm sure"),
    ((" can", "’t", " stop"), "can’t stop"),
    ((" the", " boys", "'", " bikes"), "the boys' bikes"),
    ((" he", " said", " 'hello'"), "he said 'hello'"),     # a quote, not a contraction: its space stays
]


@pytest.mark.parametrize("toks,expected", ENGLISH, ids=[" ".join(t).strip() for t, _ in ENGLISH])
def test_english_contractions(toks, expected):
    assert shown(*toks, language="en") == expected


def test_english_gets_no_french_spacing():
    assert shown(" Really", " ?", language="en") == "Really ?"   # punctuation kept, no U+202F
    assert NNBSP not in shown(" Really", " ?", language="en")


def test_merged_word_timing_and_probability():
    w = display_words([Word(1.0, 1.1, " d", 0.9), Word(1.1, 1.6, "'accord", 0.4), Word(1.7, 2.0, " avec", 0.8)], "fr")
    assert [(x.word, x.start, x.end, x.probability) for x in w] == [("d'accord", 1.0, 1.6, 0.4), ("avec", 1.7, 2.0, 0.8)]


def test_idempotent():
    first = display_words(tokens(" Il", " a", " dit", " :", " «", " non", " »", " d", "'accord", " bien", " ?"), "fr")
    again = display_words(first, "fr")
    assert [(w.word, w.start, w.end) for w in again] == [(w.word, w.start, w.end) for w in first]
    respaced = display_words([Word(w.start, w.end, " " + w.word, w.probability) for w in first], "fr")
    assert [w.word for w in respaced] == [w.word for w in first]


def test_unmarked_text_is_not_glued():
    # Words typed without Whisper's leading spaces: numbers stay apart, elisions still join.
    assert display_text([Word(0, 0.2, "12"), Word(0.3, 0.5, "000"), Word(0.6, 0.7, "l'"), Word(0.7, 0.9, "arme")],
                        "fr") == "12 000 l'arme"


def test_auto_language_uses_the_detected_one():
    assert caption_language("auto", "fr") == "fr"
    assert caption_language("fr", "en") == "fr"
    assert caption_language("auto", "und") is None
    assert caption_language(None, None) is None


def test_layout_and_burned_words_use_display_words():
    caps = layout(tokens(" Nous", " sommes", " d", "'accord", " avec", " les", " États", "-Unis", " ?"),
                  load_style("social").rules, "fr")
    text = " ".join(c.text.replace("\n", " ") for c in caps)
    assert text == f"Nous sommes d'accord avec les États-Unis{NNBSP}?"


# ---- real Whisper output ---------------------------------------------------------------------

def test_real_french_whisper_has_no_space_before_an_apostrophe(french_transcripts):
    raw_split = 0
    for name, t in french_transcripts.items():
        words = [w.word for w in display_words(t.words, caption_language("auto", t.language))]
        raw_split += sum(1 for w in t.words if w.word[:1] in "'’")
        assert not [w for w in words if re.search(r"\s['’]|^['’]", w)], (name, words)
        joined = " ".join(words)
        assert not re.search(r"\s['’]", joined), (name, joined)
    assert raw_split >= 5          # Whisper really splits elisions: the case is exercised
    fleurs = " ".join(w.word for w in display_words(french_transcripts["fr_fleurs_001.wav:fr"].words, "fr"))
    assert "d'accord" in fleurs and "États-Unis" in fleurs


def test_real_french_detected_with_auto_gets_french_typography(french_transcripts):
    t = french_transcripts["fr_linto_bonjour_vous_allez_bien_long_silence.wav:fr"]
    text = display_text(t.words, caption_language("fr", t.language))
    assert f"bien{NNBSP}?" in text and "est-ce" in text
    detected = [t for k, t in french_transcripts.items() if k.endswith(":auto") and t.language == "fr"]
    assert detected
    for t in detected:
        text = display_text(t.words, caption_language("auto", t.language))
        assert not re.search(r"\S[ ]?[?!;:](\s|$)", text.replace(NNBSP, "")) or NNBSP in text


def dump_words(path: Path, transcripts) -> None:     # debugging aid: what Whisper emitted
    path.write_text(json.dumps({k: [w.word for w in t.words] for k, t in transcripts.items()}, ensure_ascii=False))
