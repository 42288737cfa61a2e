"""Issue 15: the caption spelling and wording check, on pyspellchecker's real French and English
word lists: unknown and doubled words, numbers written two ways, low-confidence words, names to
check; the glossary, words.txt and an SRT correction resolve; spellcheck = "block" stops a render."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from pipeline.captions import spelling
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.source.config import load_settings
from pipeline.speech.transcript import Word
from tests.test_review_fixtures import make_episode

CLIPS = [SimpleNamespace(file="1.mp4", offset=0.0, start=0.0, frames=30 * 30, kind="clip"),
         SimpleNamespace(file="2.mp4", offset=30.0, start=5.0, frames=30 * 30, kind="clip")]


def words(text: str, step: float = 0.4, low: tuple[str, ...] = ()) -> list[Word]:
    """Whisper-style tokens (a leading space each), one every ``step`` seconds."""
    return [Word(round(i * step, 3), round(i * step + 0.3, 3), " " + t, 0.3 if t in low else 0.95)
            for i, t in enumerate(text.split())]


def found(text: str, kind: str, **kwargs) -> list[str]:
    return [f["word"] for f in spelling.check(words(text), CLIPS, "fr", **kwargs)[kind]]


@pytest.fixture(autouse=True)
def no_unit_presets(monkeypatch):
    monkeypatch.delenv("CADRE_PRESETS", raising=False)


def test_a_typo_in_a_french_sentence_is_flagged_and_correct_words_are_not():
    text = ("Les policiers de la gendarmrie ont interpellé un suspect aujourd'hui. C'est une enquête "
            "qu'on va étudier, d'accord ? Vingt-deux témoins ont appelé le commissariat, a-t-il dit.")
    out = spelling.check(words(text), CLIPS, "fr")
    assert [f["word"] for f in out["unknown"]] == ["gendarmrie"]
    f = out["unknown"][0]
    assert (f["clip"], f["time"]) == ("1.mp4", 1.6)                  # the 5th token, 0.4 s apart
    assert out["doubled"] == out["numbers"] == out["names"] == []
    assert found("It's a case we don't close", "unknown") == []        # English too


def test_where_is_the_clip_and_the_time_in_that_clip():
    ws = [Word(31.0, 31.3, " gendarmrie", 0.9)]                       # 1 s into 2.mp4, trimmed from 5 s
    f = spelling.check(ws, CLIPS, "fr")["unknown"][0]
    assert (f["clip"], f["time"], f["at"]) == ("2.mp4", 6.0, 31.0)


def test_glossary_and_unit_word_list_resolve(tmp_path, monkeypatch):
    text = "La brigade Sentinelix patrouille avec le drone Hx-200 près de la gendarmrie"
    assert found(text, "unknown") == ["gendarmrie"] and found(text, "names") == ["Sentinelix", "Hx-200"]
    assert found(text, "unknown", glossary=["Gendarmrie"]) == []
    monkeypatch.setenv("CADRE_PRESETS", str(tmp_path))
    (tmp_path / "words.txt").write_text("# unit words\nsentinelix\ngendarmrie\nHx-200\n", "utf-8")
    assert found(text, "unknown") == [] and found(text, "names") == []


def test_names_are_listed_to_check_not_as_errors():
    out = spelling.check(words("Le commandant Kerbrat a parlé à la SDAT. Kerbrat confirme. Zorglab"), CLIPS, "fr")
    assert [f["word"] for f in out["names"]] == ["Kerbrat", "SDAT", "Kerbrat"]   # also at a sentence start
    assert [f["word"] for f in out["unknown"]] == ["Zorglab"]         # only ever seen at a sentence start
    assert spelling.blocking(out) == out["unknown"]                   # names never block


def test_doubled_words():
    assert found("Il a vu le le suspect", "doubled") == ["le le"]
    assert found("Nous nous sommes vus, vous vous êtes tus", "doubled") == []
    assert found("Non, non. Merci", "doubled") == []                 # a comma between them: on purpose


def test_numbers_written_two_ways_in_one_episode():
    out = spelling.check(words("Il y avait 12 000 euros et trois voitures ; douze mille euros, 3 motos"), CLIPS, "fr")
    got = [(f["word"], f["note"]) for f in out["numbers"]]
    assert ("12 000", "12000 written as grouped digits and words") in got
    assert ("douze mille", "12000 written as grouped digits and words") in got
    assert {"trois", "3"} <= {w for w, _ in got}
    assert found("Un homme et 1 femme, puis 12000 et 12 000", "numbers") == ["12000", "12 000"]   # "un" is an article
    assert found("trois voitures et trois motos, 4 et 4", "numbers") == []


def test_low_confidence_words():
    out = spelling.check(words("Le suspect a pris la fuite", low=("fuite",)), CLIPS, "fr")
    assert [(f["word"], f["note"]) for f in out["low_confidence"]] == [("fuite", "probability 0.30")]
    assert spelling.blocking(out) == []


def test_word_list_not_utf8_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_PRESETS", str(tmp_path))
    (tmp_path / "words.txt").write_bytes("gendarmerie\nTéléphone\n".encode("cp1252"))
    with pytest.raises(CadreError) as exc:
        spelling.check(words("Bonjour"), CLIPS, "fr")
    line = str(exc.value)
    assert "\n" not in line and "words.txt" in line and "line 2" in line and "UTF-8" in line


def test_setting_is_validated(tmp_path):
    ep = tmp_path / "c" / "ep"
    ep.mkdir(parents=True)
    assert load_settings(ep).spellcheck == "warn"
    (tmp_path / "c" / "campaign.toml").write_text('spellcheck = "block"\n')
    assert load_settings(ep).spellcheck == "block"
    (ep / "episode.toml").write_text('spellcheck = "off"\n')
    assert load_settings(ep).spellcheck == "off"
    (ep / "episode.toml").write_text('spellcheck = "strict"\n')
    with pytest.raises(CadreError, match="spellcheck.*off, warn, block"):
        load_settings(ep)


SRT = """1
00:00:00,100 --> 00:00:00,900
Appel de la gendarmrie

2
00:00:01,000 --> 00:00:01,900
Il habite rue des Lilas
"""


def test_block_stops_the_render_with_one_line_and_the_glossary_resolves(tmp_path):
    folder = make_episode(tmp_path / "c", srt=SRT, toml='spellcheck = "block"\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(folder), "-n", "youtube-shorts", "-o", str(out)])
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("cadre: error:")]
    assert len(lines) == 1, result.output
    assert "'gendarmrie' (1.mp4 at 0:00." in lines[0] and "glossary" in lines[0], lines[0]
    assert not any(out.rglob("*.mp4"))

    (folder / "episode.toml").write_text((folder / "episode.toml").read_text("utf-8")
                                         + '[asr]\nglossary = ["gendarmrie"]\n', "utf-8")
    result = CliRunner().invoke(main, ["render", str(folder), "-n", "youtube-shorts", "-o", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "ep" / "youtube-shorts" / "report.json").read_text("utf-8"))
    assert report["spelling"]["mode"] == "block" and report["spelling"]["unknown"] == []


def test_campaign_report_lists_the_findings(tmp_path):
    from pipeline.campaign.report import Row, fill_from_outputs

    findings = spelling.check(words("la gendarmrie a vu le le suspect", low=("suspect",)), CLIPS, "fr")
    folder = tmp_path / "ep" / "tiktok"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps({"outputs": [], "spelling": findings}), "utf-8")
    row = fill_from_outputs(Row("ep", "tiktok", "done"), tmp_path)
    text = "\n".join(row.warnings)
    assert "1 unknown words: 'gendarmrie' (1.mp4 at 0:00.4)" in text
    assert "'le le'" in text and "'suspect'" in text


def test_review_page_marks_unknown_words():
    from pipeline.review.state import _tokens

    toks = _tokens("La gendarmrie de Kerbrat,\nmerci", set(), (), spelling.allowed_words())
    assert [t["text"] for t in toks if t["spell"]] == ["gendarmrie"]         # names are not errors
    assert not any(t["spell"] for t in _tokens("La gendarmrie", set(), (), {"gendarmrie"}))
    assert not any(t["spell"] for t in _tokens("La gendarmrie", set(), ()))  # spellcheck = "off"
