import pysubs2

from pipeline.captions.layout import ACCESSIBLE
from pipeline.captions.sidecars import write_sidecars
from pipeline.speech.transcript import Word
from pipeline.captions.typography import NNBSP

SPEECH = ("Bonjour à tous, nous sommes avec le commissaire Jean de La Fontaine à Paris. Il y a eu 12 000 appels "
          "cette année, vraiment ? Oui ! Le n° 17 reste le numéro d'urgence pour la police nationale.")


def timed(text, step=0.3):
    return [Word(round(i * step, 3), round(i * step + 0.25, 3), w) for i, w in enumerate(text.split())]


def test_accessibility_layout(tmp_path):
    srt, vtt = tmp_path / "ep.srt", tmp_path / "ep.vtt"
    write_sidecars(timed(SPEECH), srt, vtt)
    for path in (srt, vtt):
        subs = pysubs2.load(str(path))
        assert len(subs) >= 3
        for event in subs:
            lines = event.plaintext.split("\n")
            assert len(lines) <= ACCESSIBLE.max_lines
            assert all(len(line) <= ACCESSIBLE.max_chars_per_line for line in lines), lines
        for a, b in zip(subs, subs[1:]):
            assert a.end <= b.start
    assert vtt.read_text().startswith("WEBVTT")
    assert f"vraiment{NNBSP}?" in srt.read_text()


def test_text_stays_literal(tmp_path):
    srt, vtt = tmp_path / "ep.srt", tmp_path / "ep.vtt"
    write_sidecars([Word(0, 1, "{\\fs200}"), Word(1, 2, "C:\\Nouveau"), Word(2, 3, "<b>gras</b>"), Word(3, 4, "&")],
                   srt, vtt, language="en")
    s, v = srt.read_text(), vtt.read_text()
    assert "{\\fs200}" in s and "{\\fs200}" in v                 # braces kept, not stripped as tags
    assert "C:\\\u2060Nouveau" in s                             # "\N" not turned into a line break
    assert "&lt;b&gt;gras&lt;/b&gt; &amp;" in v
    assert "<b>" not in s.replace("<\u2060b>", "")


def test_no_words_writes_empty_files(tmp_path):
    srt, vtt = tmp_path / "ep.srt", tmp_path / "ep.vtt"
    write_sidecars([], srt, vtt)
    assert srt.read_text().strip() == "" and vtt.read_text().startswith("WEBVTT")
