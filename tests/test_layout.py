import pytest

from pipeline.captions.layout import ACCESSIBLE, LayoutRules, clean_words, layout
from pipeline.speech.transcript import Word

SOCIAL = LayoutRules(max_chars_per_line=18, max_lines=2, max_cps=20, min_duration=0.8, max_duration=3.5,
                     pause=0.5, linger=0.4)


def timed(text, step=0.3, length=0.25, start=0.0, gaps=None):
    """Words of ``text`` every ``step`` seconds; ``gaps`` adds silence after the given words."""
    words, t = [], start
    for w in text.split():
        words.append(Word(round(t, 3), round(t + length, 3), w))
        t += step + (gaps or {}).get(w, 0.0)
    return words


SPEECH = ("Bonjour à tous, nous sommes avec le commissaire Jean de La Fontaine à Paris. Il y a eu 12 000 appels "
          "cette année, vraiment ? Oui ! Le n° 17 reste le numéro d'urgence pour la police nationale et la "
          "gendarmerie. Merci à Marie-Claire Dupont pour son aide précieuse pendant toute la nuit.")


@pytest.mark.parametrize("rules", [SOCIAL, ACCESSIBLE, LayoutRules(max_chars_per_line=14, max_lines=2, max_words=3)])
def test_limits(rules):
    caps = layout(timed(SPEECH), rules)
    assert " ".join(c.text.replace("\n", " ") for c in caps) == " ".join(SPEECH.split())
    for c in caps:
        assert 1 <= len(c.lines) <= rules.max_lines
        for line in c.lines:
            text = " ".join(w.word for w in line)
            assert len(text) <= rules.max_chars_per_line or len(c.chunks) == 1 or \
                any(" ".join(w.word for w in ch) == text for ch in c.chunks), text
        if rules.max_words:
            assert len(c.words) <= rules.max_words or len(c.chunks) == 1
        assert c.end > c.start
        assert c.end - c.start <= rules.max_duration + rules.linger + 1e-6 or len(c.chunks) == 1


@pytest.mark.parametrize("rules", [SOCIAL, ACCESSIBLE, LayoutRules(max_chars_per_line=10, max_lines=1)])
def test_names_and_numbers_never_split(rules):
    caps = layout(timed(SPEECH), rules)
    lines = [" ".join(w.word for w in line) for c in caps for line in c.lines]
    for unit in ["Jean de La Fontaine", "12 000", "n° 17", "Marie-Claire Dupont"]:
        assert any(unit in line for line in lines), (unit, lines)


def test_breaks_at_sentence_end_and_pause():
    caps = layout(timed(SPEECH, gaps={"Paris.": 2.0}), SOCIAL)
    assert any(c.text.endswith("Paris.") for c in caps)
    assert any(c.text.startswith("Il y a eu") for c in caps)


def test_no_caption_during_silence():
    words = timed("Première phrase ici.", start=0) + timed("Et la suite après un silence.", start=5.0)
    for rules in (SOCIAL, ACCESSIBLE):
        caps = layout(words, rules)
        last_spoken = words[2].end
        silent = [t / 10 for t in range(int((last_spoken + rules.linger) * 10) + 1, 50)]
        assert silent
        for t in silent:
            assert not any(c.start <= t < c.end for c in caps), t


def test_no_overlap_and_sorted():
    caps = layout(timed(SPEECH, step=0.12, length=0.1), SOCIAL)
    for a, b in zip(caps, caps[1:]):
        assert a.end <= b.start + 1e-9


def test_min_duration_and_reading_speed_when_time_allows():
    # Slow speech with short pauses: every caption can reach its reading time.
    caps = layout(timed(SPEECH, step=0.45, length=0.3), ACCESSIBLE)
    for c in caps[:-1]:
        chars = len(c.text.replace("\n", " "))
        assert c.end - c.start >= max(ACCESSIBLE.min_duration, chars / ACCESSIBLE.max_cps) - 1e-6
    # Short sentences, each followed by 2 s of silence, spoken 0.3 s faster than they can be read
    # (or shorter than min_duration): each caption only needs to stay up 0.3 s into the silence
    # (less than linger), so both rules must lengthen it. Spoken length alone never meets them.
    sentences = ["Oui !", "Merci.", "Il y a eu 12 000 appels cette année.",
                 "Le n° 17 reste le numéro d'urgence.", "Nous sommes avec le commissaire de Paris."]
    words, t = [], 0.0
    for s in sentences:
        tokens = s.split()
        spoken = max(ACCESSIBLE.min_duration, len(s) / ACCESSIBLE.max_cps) - 0.3
        step = spoken / len(tokens)
        words += [Word(round(t + i * step, 3), round(t + (i + 1) * step, 3), w) for i, w in enumerate(tokens)]
        t += spoken + 2.0
    caps = layout(words, ACCESSIBLE)
    assert [c.text.replace("\n", " ") for c in caps] == sentences
    needs = [max(ACCESSIBLE.min_duration, len(s) / ACCESSIBLE.max_cps) for s in sentences]
    assert any(n == ACCESSIBLE.min_duration for n in needs) and any(n > ACCESSIBLE.min_duration for n in needs)
    for c, need in zip(caps, needs):
        assert c.words[-1].end - c.start < need - 0.25        # speech alone is too short to read
        assert c.end - c.start >= need - 1e-6, (c.text, c.end - c.start, need)


def test_short_word_kept_up_but_only_lingers_into_silence():
    caps = layout([Word(1.0, 1.2, "Stop !")], SOCIAL)
    assert len(caps) == 1
    assert caps[0].end == pytest.approx(1.2 + SOCIAL.linger)


def test_max_duration_splits_long_speech():
    caps = layout(timed("un " * 40, step=0.5, length=0.45), SOCIAL)
    assert all(c.end - c.start <= SOCIAL.max_duration + SOCIAL.linger for c in caps)
    assert len(caps) > 3


def test_accessible_rules():
    assert (ACCESSIBLE.max_chars_per_line, ACCESSIBLE.max_lines, ACCESSIBLE.max_cps) == (42, 2, 17.0)


def test_clean_words_attaches_punctuation():
    words = clean_words([Word(0, 0.2, " Vraiment"), Word(0.2, 0.3, "?"), Word(0.4, 0.5, " «"),
                         Word(0.5, 0.8, "Allô"), Word(0.8, 0.9, "»"), Word(1, 1.1, "  ")])
    assert [w.word for w in words] == ["Vraiment ?", "« Allô »"]
    assert words[0].end == 0.3 and words[1].start == 0.4


def test_empty():
    assert layout([], SOCIAL) == []
