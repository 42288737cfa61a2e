import pytest

from pipeline.captions.styles import CaptionStyle, load_style
from pipeline.core.errors import CadreError
from pipeline.core.resources import preset_names


def test_required_presets_load():
    names = preset_names("captions")
    assert {"social", "karaoke", "punchy", "classic"} <= set(names)
    for name in names:
        style = load_style(name)
        assert isinstance(style, CaptionStyle)
        assert style.font_path.is_file()
        assert style.font_family == "Roboto"


def test_presets_have_their_character():
    assert load_style("karaoke").karaoke
    punchy = load_style("punchy")
    assert punchy.case == "upper" and 1 <= punchy.max_words <= 3
    assert load_style("classic").box
    social = load_style("social")
    assert social.bold and social.max_lines <= 2 and 70 <= social.size <= 90


def test_overrides():
    style = load_style("social", {"size": 90, "position": "top", "colour": "#FFEE00"})
    assert (style.size, style.position, style.colour) == (90, "top", "#FFEE00")
    assert style.rules.max_chars_per_line == load_style("social").max_chars_per_line


def test_unknown_style_lists_allowed_names():
    with pytest.raises(CadreError) as err:
        load_style("tiktokk")
    msg = str(err.value)
    assert "tiktokk" in msg and all(n in msg for n in ("social", "karaoke", "punchy", "classic"))


@pytest.mark.parametrize("key,value,expected", [
    ("size", 500, "key 'size': 500 is out of range: it must be a whole number, between 20 and 200"),
    ("outline", -1, "key 'outline': -1 is out of range: it must be between 0 and 20"),
    ("max_lines", 9, "key 'max_lines': 9 is out of range: it must be a whole number, between 1 and 4"),
    ("max_cps", "fast", "key 'max_cps': 'fast' is not a number: it must be between 5 and 40"),
    ("size", 70.5, "key 'size': 70.5 is not a whole number"),
    ("position", "left", "key 'position': 'left' is not allowed; choose one of: bottom, middle, top"),
    ("case", "title", "choose one of: none, upper, lower"),
    ("colour", "white", "key 'colour': 'white' is not a colour"),
    ("karaoke", "yes", "key 'karaoke': 'yes' must be true or false"),
    ("min_size", 150, "key 'min_size': 150 must not exceed size (80)"),
    ("sizes", 80, "key 'sizes': unknown caption style key"),
])
def test_bad_values(key, value, expected):
    with pytest.raises(CadreError) as err:
        load_style("social", {key: value})
    assert expected in str(err.value)
    assert "social.toml" in str(err.value)


def test_missing_font():
    with pytest.raises(CadreError) as err:
        load_style("social", {"font": "Missing-Bold.ttf"})
    assert "key 'font': 'Missing-Bold.ttf' is not in" in str(err.value) and "Roboto-Bold.ttf" in str(err.value)
