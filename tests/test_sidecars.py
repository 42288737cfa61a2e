import pysubs2

from pipeline.captions.layout import ACCESSIBLE
from pipeline.captions.sidecars import write_sidecars
from pipeline.captions.typography import NNBSP
from pipeline.speech.transcript import Word, parse_srt

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
    assert "{\\" not in s and "\\N" not in s                     # no player can read a style code or a break
    assert "{\u2060\\\u2060fs200}" in s and "{\\\u2060fs200}" in v
    assert "C:\\\u2060Nouveau" in s
    assert "&lt;b&gt;gras&lt;/b&gt; &amp;" in v
    assert "<b>" not in s
    back = parse_srt(s)[0].text                                 # a person's edit reads back as written
    assert back == "{\\fs200} C:\\Nouveau <b>gras</b> &"


def test_no_words_writes_empty_files(tmp_path):
    srt, vtt = tmp_path / "ep.srt", tmp_path / "ep.vtt"
    write_sidecars([], srt, vtt)
    assert srt.read_text().strip() == "" and vtt.read_text().startswith("WEBVTT")
