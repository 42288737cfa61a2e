"""Every tunable of the framing plan is declared in ``reframe/options.py`` and is part of the cache
keys: changing any one of them plans the clip again (issue 27)."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from pipeline import analyse
from pipeline.reframe import auto, follow, path, speaker, stack, subjects
from pipeline.reframe.options import FRAMING, FramingOptions
from pipeline.source import shots
from pipeline.source.normalize import ClipSpan
from pipeline.source.probe import probe
from tests.conftest import make_clip

PLANNING = {"auto": auto, "shots": shots, "subjects": subjects, "path": path, "stack": stack,
            "speaker": speaker, "follow": follow}
# module constants that are not tunables of the plan: output geometry, a cache version, and the
# look of the stacked panels' divider (drawn at render time, not planned)
NOT_TUNABLES = {"SHOTS_VERSION", "PANEL_H", "DIVIDER"}


def _leaves(opts, prefix=()):
    """``(path, value)`` of every field of ``opts``, nested option sections included."""
    for f in dataclasses.fields(opts):
        value = getattr(opts, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, prefix + (f.name,))
        else:
            yield prefix + (f.name,), value


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value * 2 + 1
    if isinstance(value, tuple):
        return (_changed(value[0]),) + value[1:]
    raise AssertionError(f"no rule to change a {type(value).__name__}")


def _replace(opts, where: tuple, value):
    if len(where) == 1:
        return dataclasses.replace(opts, **{where[0]: value})
    inner = getattr(opts, where[0])
    return dataclasses.replace(opts, **{where[0]: _replace(inner, where[1:], value)})


LEAVES = list(_leaves(FRAMING))


@pytest.fixture(scope="module")
def span(tmp_path_factory) -> ClipSpan:
    clip = make_clip(tmp_path_factory.mktemp("opts") / "clip.mp4", size="320x180", duration=1.0, audio=False)
    return ClipSpan(clip, probe(clip))


def _key(span: ClipSpan, opts: FramingOptions) -> str:
    return analyse.plan_key(span, (320, 180), "follow", (0.5, 0.5), [], [], [12], [], opts)


def test_every_section_is_frozen_and_counted():
    assert {f.name for f in dataclasses.fields(FRAMING)} == set(PLANNING) | {"detection"}
    for name in [f.name for f in dataclasses.fields(FRAMING)]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(getattr(FRAMING, name), dataclasses.fields(getattr(FRAMING, name))[0].name, 0)


@pytest.mark.parametrize("where,value", LEAVES, ids=[".".join(w) for w, _ in LEAVES])
def test_each_tunable_changes_the_plan_key(span, where, value):
    changed = _replace(FRAMING, where, _changed(value))
    assert _key(span, changed) != _key(span, FRAMING), f"{'.'.join(where)} is not in the framing cache key"
    assert _key(span, FramingOptions()) == _key(span, FRAMING)     # and the key is stable


def test_shot_options_are_in_the_shots_key(span, monkeypatch):
    """Shots are cached by every shot option (the motion floor was once missing from their key)."""
    from pipeline.core import cache

    keys = []
    monkeypatch.setattr(cache, "load", lambda kind, key: keys.append(key) or None)
    monkeypatch.setattr(cache, "store", lambda kind, key, value: None)
    for where, value in _leaves(FRAMING.shots):
        monkeypatch.setattr(shots, "OPT", _replace(FRAMING.shots, where, value))
        shots.detect_shots(span)
        monkeypatch.setattr(shots, "OPT", _replace(FRAMING.shots, where, _changed(value)))
        shots.detect_shots(span)
    pairs = list(zip(keys[::2], keys[1::2]))
    assert len(pairs) == len(list(_leaves(FRAMING.shots)))
    assert all(a != b for a, b in pairs)


def test_planning_modules_read_the_declared_options():
    """Each planning module's numbers are the section of :data:`FRAMING` that the key hashes."""
    for section, module in PLANNING.items():
        assert module.OPT is getattr(FRAMING, section), section


@pytest.mark.parametrize("name", sorted(PLANNING))
def test_no_tunable_left_as_a_module_constant(name):
    """A number assigned to an UPPER_CASE module name would be outside the key: none is left."""
    source = Path(PLANNING[name].__file__).read_text()
    stray = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id.isupper() and t.id not in NOT_TUNABLES and t.id != "OPT":
                stray.append(t.id)
    assert not stray, f"reframe/{name}.py keeps tunables outside options.py: {stray}"


def test_analyse_hashes_no_module_constants():
    source = Path(analyse.__file__).read_text()
    assert "isupper" not in source and "vars(m)" not in source
