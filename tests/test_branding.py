"""Branding presets and the ffmpeg overlay, checked on real pixels."""
from pathlib import Path

import av
import ffmpeg
import numpy as np
import pytest

from pipeline.branding.overlay import (
    Branding,
    TitleCard,
    load_branding,
    make_branding,
    overlay,
)
from pipeline.core.errors import CadreError
from pipeline.core.ffmpeg import compile_graph, run
from pipeline.core.resources import preset_names

SAFE = (65, 288, 192, 672)
SIZE = (1080, 1920)


def frame(t, branding=None, title=None, duration=3.0):
    v = ffmpeg.input(f"color=c=0x285a8c:s={SIZE[0]}x{SIZE[1]}:r=10:d={duration}", f="lavfi").video
    if branding is not None:
        v = overlay(v, branding, SAFE, (0.0, duration), title=title)
    out = ffmpeg.output(v, "pipe:", format="rawvideo", pix_fmt="rgb24", ss=t, vframes=1)
    data = run(compile_graph(out), source="test", what="frame", capture_stdout=True).stdout
    return np.frombuffer(data, np.uint8).reshape(SIZE[1], SIZE[0], 3)


def changed(a, b):
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 12


def inside_safe(mask):
    left, top, right, bottom = SAFE
    inner = np.zeros_like(mask)
    inner[top:SIZE[1] - bottom, left:SIZE[0] - right] = True
    return not (mask & ~inner).any()


def test_presets_load():
    assert {"none", "default"} <= set(preset_names("branding"))
    none = load_branding("none")
    assert none.logo is None and none.title is None
    default = load_branding("default")
    assert default.logo is not None and default.logo.path.name == "logo.png"
    assert default.title is not None


def test_logo_and_title_inside_safe_zone():
    brand = load_branding("default")
    bare = frame(1.0)
    early = changed(bare, frame(1.0, brand, "Contrôle routier de nuit avec la brigade motorisée de Lyon"))
    late = changed(bare, frame(2.8, brand, "Contrôle routier de nuit avec la brigade motorisée de Lyon"))
    assert early.sum() > late.sum() > 2000          # title card then gone, logo stays
    assert inside_safe(early) and inside_safe(late)
    ys, xs = np.nonzero(late)
    assert xs.min() > SIZE[0] // 2 and ys.max() < SIZE[1] // 2     # logo top-right


def test_none_draws_nothing():
    assert not changed(frame(1.0), frame(1.0, load_branding("none"), "Titre")).any()


def test_title_from_preset_text_when_no_episode_title():
    brand = Branding("t", title=TitleCard(seconds=1.0, text="Patrouille"))
    mask = changed(frame(0.5), frame(0.5, brand, None))
    assert mask.sum() > 1000 and inside_safe(mask)


def test_logo_that_is_not_an_image(tmp_path):
    fake = tmp_path / "logo.png"
    fake.write_text("not a picture")
    with pytest.raises(CadreError) as err:
        make_branding("x", {"logo": {"file": str(fake)}})
    assert "not a readable image" in str(err.value) and str(fake) in str(err.value)


@pytest.mark.parametrize("data,expected", [
    ({"logo": {"file": "nope.png"}}, "key 'logo.file': 'nope.png' is not a file"),
    ({"logo": {"file": "logo.png", "position": "centre"}}, "choose one of: top-left"),
    ({"logo": {"file": "logo.png", "opacity": 3}}, "key 'logo.opacity': 3 is out of range: it must be between 0.05 and 1"),
    ({"title": {"size": 500}}, "key 'title.size': 500 is out of range: it must be a whole number, between 24 and 160"),
    ({"title": {"colour": "red"}}, "is not a colour"),
    ({"watermark": {}}, "key 'watermark': unknown key"),
])
def test_bad_values(data, expected):
    with pytest.raises(CadreError) as err:
        make_branding("x", data, "x.toml")
    assert expected in str(err.value)


def test_unknown_preset_lists_names():
    with pytest.raises(CadreError) as err:
        load_branding("fancy")
    assert "none" in str(err.value) and "default" in str(err.value)


def solid(path, rgb, size=(1080, 1920)):
    from PIL import Image

    Image.new("RGB", size, rgb).save(path)
    return path


def test_intro_clip_and_outro_still_join_the_episode_without_the_logo(tmp_path, monkeypatch):
    import json

    from pipeline.orchestrator import RenderOptions, render_episode
    from tests.conftest import make_clip

    intro = make_clip(tmp_path / "assets" / "intro.mp4", size="1080x1920", duration=1.0, source="color=c=red")
    outro = solid(tmp_path / "assets" / "outro.png", (0, 160, 0), (720, 1280))   # scaled up to 1080x1920
    presets = tmp_path / "presets" / "branding"
    presets.mkdir(parents=True)
    (presets / "unit.toml").write_text(f'intro = "{intro}"\noutro = "{outro}"\nstill_seconds = 1.5\n\n'
                                       '[logo]\nfile = "logo.png"\n\n[title]\nseconds = 1.0\n', "utf-8")
    monkeypatch.setenv("CADRE_PRESETS", str(tmp_path / "presets"))
    ep = tmp_path / "ep"
    make_clip(ep / "1.mp4", size="1920x1080", duration=4.0)
    (ep / "episode.toml").write_text('branding = "unit"\ntitle = "Appel à témoins"\n', "utf-8")
    result = render_episode(ep, RenderOptions(networks=("youtube-shorts",), caption_style="none", redact="none"))
    out = Path(result["out_dir"]) / "youtube-shorts" / "ep.mp4"
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 30 + 120 + 45
    plan = json.loads((Path(result["out_dir"]) / "plan.json").read_text("utf-8"))
    assert [c["kind"] for c in plan["clips"]] == ["intro", "clip", "outro"]
    assert [round(c["offset"], 2) for c in plan["clips"]] == [0.0, 1.0, 5.0]

    def colour_everywhere(t, rgb):
        with av.open(str(out)) as c:
            for f in c.decode(video=0):
                if f.time >= t:
                    px = f.to_ndarray(format="rgb24").astype(int)
                    return np.abs(px - np.array(rgb)).max() < 40   # no logo, no title card, no caption
        raise AssertionError(f"no frame at {t} s")

    assert colour_everywhere(0.5, (255, 0, 0))           # the intro, whole and unbranded
    assert colour_everywhere(5.8, (0, 160, 0))           # the still outro, fitted to the frame
    assert not colour_everywhere(1.5, (255, 0, 0))       # the episode, with its title card and logo
