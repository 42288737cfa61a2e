"""Presets and the masks.toml a reviewer edits: validation with clear messages, and their effect."""
from __future__ import annotations

import pytest

from pipeline.core.errors import CadreError
from pipeline.core.resources import preset_names
from pipeline.faces.detectors.base import Detection
from pipeline.faces.overrides import load_overrides
from pipeline.faces.settings import load_settings, settings_from_dict
from pipeline.faces.tracking import FaceTracks, link


def test_all_presets_load():
    assert {"mosaic", "solid", "blur", "none"} <= set(preset_names("redaction"))
    for name in ("mosaic", "solid", "blur", "none"):
        s = load_settings(name)
        assert s.method == name and s.pad >= 1.3
    assert load_settings("mosaic").method == "mosaic"


@pytest.mark.parametrize("data,match", [
    ({"methd": "mosaic"}, "key 'methd': unknown redaction key; allowed keys: .*pad"),
    ({"method": "pixelate"}, "key 'method': 'pixelate' is not allowed; choose one of: mosaic, solid, blur, none"),
    ({"pad": 1.1}, r"key 'pad': 1.1 is out of range: it must be between 1.3 and 3"),
    ({"detect_every": 2.5}, "key 'detect_every': 2.5 is not a whole number: it must be a whole number, between 1 and 6"),
    ({"shape": "circle"}, "choose one of: rect, ellipse"),
    ({"color": [0, 0]}, "three whole numbers"),
    ({"detect_every": 4, "tile_every": 6}, "multiple of detect_every"),
    ({"threshold": True}, "threshold"),
])
def test_settings_validation(data, match):
    with pytest.raises(CadreError, match=match) as err:
        settings_from_dict(data, "presets/redaction/x.toml")
    assert err.value.path == "presets/redaction/x.toml"


def test_unknown_preset():
    with pytest.raises(CadreError, match="choose one of: blur, mosaic, none, solid"):
        load_settings("pixel")


MASKS = """
[[keep]]
clip = "01.mp4"
track = "{track}"
note = "officer presenting"

[[keep]]
clip = "01.mp4"
region = [0.0, 0.0, 0.3, 1.0]
start = 1.0
end = 2.0

[[mask]]
clip = "01.mp4"
region = [0.6, 0.7, 0.9, 0.8]
start = 0.5
end = 1.5
label = "plate"

[[mask]]
clip = "01.mp4"
whole_frame = true
start = 3.0
end = 3.2
"""


def _tracks() -> FaceTracks:
    dets = {f: [Detection(0.1, 0.4, 0.2, 0.55, 0.9), Detection(0.5, 0.2, 0.6, 0.35, 0.8)] for f in range(0, 120, 2)}
    return FaceTracks("01.mp4", 0.0, 120, link(dets, 10), 1.5, 10)


def test_overrides_apply(tmp_path):
    ft = _tracks()
    officer = next(t.id for t in ft.tracks if t.boxes[0][0] > 0.4)
    path = tmp_path / "masks.toml"
    path.write_text(MASKS.format(track=officer))
    ov = load_overrides(path, ["01.mp4", "02.mp4"])
    assert len(ov.entries) == 4
    at = lambda seconds: ft.boxes_at(round(seconds * 30), ov)  # noqa: E731
    # t=0.2 s: only the bystander (officer kept for the whole clip)
    assert len(at(0.2)) == 1 and at(0.2)[0][0] < 0.2
    # t=1.0 s: bystander centred in the keep region -> visible; plate mask added
    assert at(1.0) == [(0.6, 0.7, 0.9, 0.8)]
    # t=2.5 s: bystander masked again
    assert len(at(2.5)) == 1
    # t=3.1 s: whole frame
    assert (0.0, 0.0, 1.0, 1.0) in at(3.1)
    # other clips are untouched
    other = FaceTracks("02.mp4", 0.0, 120, ft.tracks, 1.5, 10)
    assert len(other.boxes_at(30, ov)) == 2


def test_clip_start_offset_maps_times_of_the_clip_file(tmp_path):
    path = tmp_path / "masks.toml"
    path.write_text('[[mask]]\nclip = "01.mp4"\nregion = [0.1, 0.1, 0.2, 0.2]\nstart = 10.0\nend = 11.0\n')
    ov = load_overrides(path)
    ft = FaceTracks("01.mp4", 9.0, 120, [], 1.5, 10)       # the span starts 9 s into the file
    assert ft.boxes_at(15, ov) == []                        # 9.5 s
    assert ft.boxes_at(45, ov) == [(0.1, 0.1, 0.2, 0.2)]    # 10.5 s


def test_unknown_kept_track_fails_closed(tmp_path):
    path = tmp_path / "masks.toml"
    path.write_text('[[keep]]\nclip = "01.mp4"\ntrack = "t00099-10-10"\n')
    with pytest.raises(CadreError, match="matches no face track"):
        _tracks().boxes_at(0, load_overrides(path))


@pytest.mark.parametrize("text,match", [
    ('[[hide]]\nclip = "01.mp4"\n', "unknown section 'hide'; use \\[\\[keep\\]\\], \\[\\[mask\\]\\] or \\[\\[voice\\]\\]"),
    ('[[mask]]\nregion = [0, 0, 1, 1]\n', "clip is missing"),
    ('[[mask]]\nclip = "01.mp4"\nregion = [0, 0, 2, 1]\n', "fractions of the frame from 0 to 1"),
    ('[[mask]]\nclip = "01.mp4"\nregion = [0.5, 0, 0.2, 1]\n', "is empty"),
    ('[[mask]]\nclip = "01.mp4"\n', "give exactly one of region"),
    ('[[keep]]\nclip = "01.mp4"\ntrack = "t1"\nregion = [0, 0, 1, 1]\n', "exactly one of track"),
    ('[[mask]]\nclip = "01.mp4"\nwhole_frame = true\nstart = 5\nend = 2\n', "end = 2.0 must be after start = 5.0"),
    ('[[mask]]\nclip = "01.mp4"\nwhole_frame = true\nfrom = 5\n', "unknown key 'from'"),
    ('[[mask]]\nclip = "01.mp4"\nwhole_frame = "yes"\n', "true or false"),
    ('mask = 3\n', "list of tables"),
    ('[[mask]\n', "invalid TOML"),
    ('[[mask]]\nclip = "03.mp4"\nwhole_frame = true\n', "clip '03.mp4' is not in the episode"),
])
def test_overrides_validation(tmp_path, text, match):
    path = tmp_path / "masks.toml"
    path.write_text(text)
    with pytest.raises(CadreError, match=match) as err:
        load_overrides(path, ["01.mp4", "02.mp4"])
    assert err.value.path == str(path)


def test_missing_overrides_file_means_none(tmp_path):
    assert load_overrides(tmp_path / "masks.toml").entries == []
