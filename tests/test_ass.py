"""Captions burned with the real ffmpeg/libass, checked on real pixels, with no system fonts."""
from dataclasses import replace
from pathlib import Path

import ffmpeg
import numpy as np
import pysubs2
import pytest

from pipeline.captions.ass import burn, escape, text_box, write_ass
from pipeline.captions.styles import load_style
from pipeline.core.ffmpeg import compile_graph, run
from pipeline.speech.transcript import Word

ALL_NETWORKS = (65, 288, 192, 672)     # union of the TikTok, Reels, Shorts, Snapchat margins (px of 1080x1920)
HALF = (33, 144, 96, 336)              # the same zone on a 540x960 test frame
BG = (40, 90, 140)


@pytest.fixture(autouse=True)
def no_system_fonts(tmp_path, monkeypatch):
    """An empty fontconfig: libass sees no system font, only Cadre's fontsdir."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.delenv("FONTCONFIG_PATH", raising=False)


def timed(text, step=0.3, length=0.25, start=0.0):
    return [Word(round(start + i * step, 3), round(start + i * step + length, 3), w) for i, w in enumerate(text.split())]


def frame(size, t, ass_path=None, filt=None):
    w, h = size
    v = ffmpeg.input(f"color=c=0x{BG[0]:02x}{BG[1]:02x}{BG[2]:02x}:s={w}x{h}:r=10:d={t + 0.3}", f="lavfi").video
    if ass_path is not None:
        v = burn(v, ass_path) if filt is None else filt(v)
    out = ffmpeg.output(v, "pipe:", format="rawvideo", pix_fmt="rgb24", ss=t, vframes=1)
    proc = run(compile_graph(out), source="test", what="frame", capture_stdout=True)
    return np.frombuffer(proc.stdout, np.uint8).reshape(h, w, 3)


def ink(a, b):
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 24


def outside(mask, safe, size):
    left, top, right, bottom = safe
    inner = np.zeros_like(mask)
    inner[top:size[1] - bottom, left:size[0] - right] = True
    return mask & ~inner


def bbox(mask):
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max(), ys.max()


def test_captions_appear_inside_the_caption_box_full_hd(tmp_path):
    size = (1080, 1920)
    style = load_style("social")
    ass = tmp_path / "c.ass"
    report = write_ass(timed("Bonjour à tous, voici la brigade de nuit"), style, ALL_NETWORKS, ass, size=size)
    assert report["events"] >= 1 and report["shrunk"] == []
    bare, captioned = frame(size, 0.5), frame(size, 0.5, ass)
    mask = ink(bare, captioned)
    assert mask.sum() > 5000                                  # real glyphs, not a stray pixel
    box = text_box(style, ALL_NETWORKS, size)
    x0, y0, x1, y1 = bbox(mask)
    assert x0 >= ALL_NETWORKS[0] and x1 < size[0] - ALL_NETWORKS[2]
    assert y0 >= ALL_NETWORKS[1] and y1 < size[1] - ALL_NETWORKS[3]
    assert y1 > box.bottom - 2 * style.size                   # sits at the bottom of the safe zone
    assert not outside(mask, ALL_NETWORKS, size).any()


def test_without_fontsdir_nothing_draws(tmp_path):
    """Proves the fixture hides system fonts, so the test above really exercises fontsdir."""
    size = (540, 960)
    ass = tmp_path / "c.ass"
    write_ass(timed("Bonjour à tous"), load_style("social"), HALF, ass, size=size)
    no_fonts = frame(size, 0.5, ass, filt=lambda v: v.filter("ass", filename=str(ass)))
    assert not ink(frame(size, 0.5), no_fonts).any()


@pytest.mark.parametrize("name", ["social", "karaoke", "punchy", "classic"])
def test_no_ink_outside_safe_zone(tmp_path, name):
    size = (540, 960)
    style = load_style(name, {"size": max(40, load_style(name).size // 2), "min_size": 20,
                              "outline": load_style(name).outline / 2, "offset": 0})
    ass = tmp_path / "c.ass"
    words = timed("Wagon Jamais QUI MMMMMMMMMMMMMMMMMMMMMMMMMMMMM gyroscope j'y Égalité")
    write_ass(words, style, HALF, ass, size=size)
    bare = frame(size, 0.1)
    subs = pysubs2.load(str(ass))
    for event in subs.events[:6]:
        t = (event.start + event.end) / 2000
        mask = ink(bare, frame(size, t, ass))
        assert mask.sum() > 200, event.text
        assert not outside(mask, HALF, size).any(), event.text


def test_long_line_wraps_or_shrinks_never_overflows(tmp_path):
    size = (540, 960)
    style = load_style("social", {"size": 40, "min_size": 24, "outline": 3, "shadow": 1, "offset": 0})
    text = ("Le Commandant Jean-Baptiste Alexandre De La Rochefoucauld-Montmorency Saint-Exupéry Vaillant "
            "ANTICONSTITUTIONNELLEMENTANTICONSTITUTIONNELLEMENT")
    words = [Word(0.0, 3.0, text)]                     # one edited line: a single token, longer than the screen
    ass = tmp_path / "c.ass"
    report = write_ass(words, style, HALF, ass, size=size)
    assert report["shrunk"] and report["shrunk"][0]["size"] < style.size
    assert report["shrunk"][0]["start"] == 0.0
    mask = ink(frame(size, 0.1), frame(size, 1.0, ass))
    assert mask.sum() > 1000
    assert not outside(mask, HALF, size).any()
    words = timed(text)                                   # the same words, timed: laid out over several captions
    report = write_ass(words, style, HALF, ass, size=size)
    for event in pysubs2.load(str(ass)).events:
        mask = ink(frame(size, 0.1), frame(size, (event.start + event.end) / 2000, ass))
        assert not outside(mask, HALF, size).any()


def test_escape_rules():
    assert escape("{\\fs200}") == "\\{\\\u2060fs200\\}"
    assert escape("a\\Nb") == "a\\\u2060Nb"
    assert escape("emoji 🚓 ok") == "emoji 🚓 ok"


def test_tags_in_transcript_show_literally(tmp_path):
    size = (540, 960)
    style = load_style("social", {"size": 40, "min_size": 20, "outline": 3, "shadow": 0, "max_chars_per_line": 40})
    ass = tmp_path / "c.ass"
    write_ass([Word(0, 2, "{\\fs200}{\\c&H0000FF&}{\\pos(0,0)}a\\Nb}{")], style, HALF, ass, size=size)
    text = pysubs2.load(str(ass)).events[0].text
    body = text[text.index("}") + 1:]
    assert "\\N" not in body.replace("\\\u2060N", "")
    for i, ch in enumerate(body):
        if ch in "{}":
            assert body[i - 1] == "\\"
    mask = ink(frame(size, 0.1), frame(size, 1.0, ass))
    x0, y0, x1, y1 = bbox(mask)
    assert y1 - y0 < 2.2 * style.size                        # \fs200 did not apply; \N did not break
    assert x1 - x0 > 300                                      # the tag text is drawn as text
    assert not outside(mask, HALF, size).any()                # \pos(0,0) did not apply
    img = frame(size, 1.0, ass).astype(int)
    red = (img[..., 0] > 180) & (img[..., 1] < 80) & (img[..., 2] < 80)
    assert not red.any()                                      # \c&H0000FF& did not apply


def test_karaoke_highlights_the_spoken_word(tmp_path):
    size = (540, 960)
    style = load_style("karaoke", {"size": 40, "min_size": 20, "outline": 3, "shadow": 0})
    ass = tmp_path / "c.ass"
    words = [Word(0.0, 0.5, "Alpha"), Word(0.6, 1.1, "Bravo"), Word(1.2, 1.7, "Charlie")]
    write_ass(words, style, HALF, ass, size=size)

    def yellow_x(t):
        img = frame(size, t, ass).astype(int)
        yellow = (img[..., 0] > 200) & (img[..., 1] > 170) & (img[..., 2] < 90)
        assert yellow.sum() > 50
        return np.nonzero(yellow)[1].mean()

    xs = [yellow_x(t) for t in (0.25, 0.85, 1.45)]
    assert xs[0] < xs[1] < xs[2]


def test_burn_handles_awkward_paths(tmp_path):
    size = (540, 960)
    folder = tmp_path / "épisode l'été: 1, 2"
    folder.mkdir()
    ass = folder / "c.ass"
    write_ass(timed("Bonjour"), load_style("social"), HALF, Path(ass), size=size)
    assert ink(frame(size, 0.1), frame(size, 0.1, ass)).sum() > 200


def test_emoji_drawn_with_the_shipped_emoji_font(tmp_path):
    size = (540, 960)
    style = load_style("social", {"shadow": 0})
    plain, with_emoji = tmp_path / "plain.ass", tmp_path / "emoji.ass"
    write_ass(timed("Appel à témoins"), style, HALF, plain, size=size)
    report = write_ass(timed("Appel à témoins 🚨"), style, HALF, with_emoji, size=size)
    assert report["left_out_glyphs"] == [] and report["warning"] is None
    assert "{\\fnNoto Emoji}🚨{\\fnRoboto}" in with_emoji.read_text("utf-8")
    bare = frame(size, 0.4)
    a, b = ink(bare, frame(size, 0.4, plain)), ink(bare, frame(size, 0.4, with_emoji))
    xa0, _, xa1, _ = bbox(a)
    xb0, yb0, xb1, yb1 = bbox(b)
    assert xb1 - xb0 > xa1 - xa0 + 20                       # the caption grew by the emoji's width
    # the emoji's own area (right of the text) has ink, and it is not Roboto's missing-glyph box
    emoji_area = b[:, xb1 - 30:xb1 + 1]
    assert emoji_area.sum() > 150
    box = tmp_path / "box.ass"
    box.write_text(with_emoji.read_text("utf-8").replace("{\\fnNoto Emoji}", ""), "utf-8")
    tofu = ink(bare, frame(size, 0.4, box))
    assert not np.array_equal(tofu, b)
    assert not outside(b, HALF, size).any()


def test_emoji_no_font_has_is_left_out_not_drawn_as_a_box(tmp_path):
    size = (540, 960)
    style = load_style("social")
    plain, odd = tmp_path / "plain.ass", tmp_path / "odd.ass"
    write_ass(timed("Appel à témoins"), style, HALF, plain, size=size)
    report = write_ass(timed("Appel \U0001F10D à témoins\U0001F009"), style, HALF, odd, size=size)
    assert [g["codepoint"] for g in report["left_out_glyphs"]] == ["U+1F009", "U+1F10D"]
    assert "left out of the burned captions" in report["warning"]
    assert np.array_equal(frame(size, 0.4, plain), frame(size, 0.4, odd))


def test_a_letter_the_font_lacks_stops_with_the_character_and_the_fix(tmp_path):
    """A person's word (timed by their SRT) the font cannot draw stops, naming the SRT and line;
    the same letter in a machine word is a recognition error, left out (``glyphs.misreads`` warns)."""
    from pipeline.core.errors import CadreError
    from pipeline.speech.transcript import CueMark

    cue = CueMark(0.0, 1.5, "ep/1.fr.srt", 6)
    with pytest.raises(CadreError) as err:
        write_ass([replace(w, cue=cue) for w in timed("Appel à témoins 東京")], load_style("social"), HALF,
                  tmp_path / "c.ass", size=(540, 960))
    assert err.value.path == "ep/1.fr.srt" and err.value.message.startswith("line 6: ")
    assert "U+6771" in err.value.message and "font" not in err.value.path
    assert not (tmp_path / "c.ass").exists()
    write_ass(timed("Appel à témoins 東京"), load_style("social"), HALF, tmp_path / "c.ass", size=(540, 960))
    assert "東" not in (tmp_path / "c.ass").read_text("utf-8")
