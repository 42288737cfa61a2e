"""Issue 31: ``cadre propose``, from rushes to episodes.

A rush is built from real spoken passages (FLEURS French, JFK English) over real footage,
separated by stretches without speech: a quiet room over a still picture, black, wind-like noise,
TV snow with hiss (``tests/test_propose_media.py``). Every passage must be covered whole by one
proposal, no proposal may start or end inside a word (the words of the passage decoded alone, and
the render's words of the rush), and no proposal may be a stretch without speech. A rush without
speech proposes from motion and sound, and says so. Bad input is one line and a non-zero exit.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline import TranscribeOptions, transcribe
from pipeline.cli import main
from pipeline.core.cache import cache_dir
from tests.conftest import tree_hashes
from tests.test_propose_media import MEDIA, PASSAGES, SPOKEN, build_rush, need_media

slow = pytest.mark.slow    # real Whisper on a 94 s rush, real CenterFace


@pytest.fixture(scope="module")
def models():
    os.environ.setdefault("CADRE_MODELS_DIR", str(cache_dir() / "models"))


@pytest.fixture(scope="module")
def spoken(tmp_path_factory, models):
    """A rushes folder with the spoken rush, and the passages in it."""
    need_media()
    root = tmp_path_factory.mktemp("spoken")
    rushes = root / "rushes"
    rushes.mkdir()
    passages = build_rush(rushes / "patrol.mp4", SPOKEN)
    before = tree_hashes(rushes)
    result = CliRunner().invoke(main, ["propose", str(rushes), "-o", str(root / "campaign"), "-n", "snapchat"])
    assert result.exit_code == 0, result.output
    assert tree_hashes(rushes) == before      # the rushes are only read: nothing written, nothing changed
    data = json.loads((root / "campaign" / "proposals.json").read_text())
    return {"root": root, "rushes": rushes, "rush": rushes / "patrol.mp4", "passages": passages, "data": data,
            "output": result.output}


def passage_words(passage: dict) -> list[tuple[float, float]]:
    """The passage's words, decoded from its own file by the render's transcription, in rush seconds."""
    wav = MEDIA / PASSAGES[passage["name"]]
    lang = "en" if passage["name"] == "jfk" else "fr"
    words = transcribe(wav, TranscribeOptions(language=lang)).words
    assert words, f"no words heard in {wav}"
    return [(passage["start"] + w.start, passage["start"] + w.end) for w in words]


@slow
def test_every_passage_is_covered_whole_by_one_proposal(spoken):
    proposals = spoken["data"]["proposals"]
    for passage in spoken["passages"]:
        words = passage_words(passage)
        first, last = words[0][0], words[-1][1]
        covering = [p for p in proposals if p["start"] <= first and p["end"] >= last]
        assert covering, (f"{passage['name']} ({first:.2f}-{last:.2f} s) is not covered whole by one proposal: "
                          f"{[(p['start'], p['end']) for p in proposals]}")
    for p in proposals:
        assert 15.0 - 0.01 <= p["end"] - p["start"] <= 60.0 + 0.01, p


@slow
def test_no_proposal_starts_or_ends_inside_a_word(spoken):
    words = [w for passage in spoken["passages"] for w in passage_words(passage)]
    # and the words the render captions: Whisper on the whole rush
    words += [(w.start, w.end) for w in transcribe(spoken["rush"], TranscribeOptions(language="fr")).words]
    for p in spoken["data"]["proposals"]:
        for edge in (p["start"], p["end"]):
            inside = [(round(a, 2), round(b, 2)) for a, b in words if a < edge < b]
            assert not inside, f"proposal {p['id']} cuts a word at {edge} s: {inside}"


@slow
def test_no_proposal_is_a_stretch_without_speech(spoken):
    """Each proposal holds a real passage (at least 5 s of it) and stays mostly on speech or footage."""
    for p in spoken["data"]["proposals"]:
        spoken_s = sum(max(0.0, min(p["end"], q["end"]) - max(p["start"], q["start"])) for q in spoken["passages"])
        assert spoken_s >= 5.0, f"{p['id']} ({p['start']}-{p['end']}) holds {spoken_s:.1f} s of speech"
        assert p["basis"] == "speech" and p["sentences"], p
        assert any(r["what"].startswith("speech ") for r in p["reasons"]), p["reasons"]
    assert len(spoken["data"]["proposals"]) == len(spoken["passages"])   # the four, and nothing from the gaps


@slow
def test_the_page_shows_reasons_transcript_masked_pictures_and_accept_commands(spoken):
    page = (spoken["root"] / "campaign" / "proposals.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    for p in spoken["data"]["proposals"]:
        assert f"--accept {p['id']}" in page
        assert p["sentences"][0]["text"][:20] in page.replace("&#x27;", "'")
        assert len(p["thumbs"]) == 4 and all(t["masked"] >= t["faces"] for t in p["thumbs"])
    assert page.count("data:image/jpeg;base64,") == 4 * len(spoken["data"]["proposals"])


@slow
def test_thumbnails_never_show_a_face_the_detector_finds(spoken):
    """Each thumbnail against the same frame unmasked, shrunk and compressed the same way: every face
    the detector finds in the unmasked picture as shown (enlarged 3x, score 0.5 and more) is changed
    in the page's (unmasked, the two are the same JPEG; masked faces here differ by 10 and more)."""
    import base64
    import io

    from PIL import Image

    from pipeline.faces.detectors import get_detector
    from pipeline.propose.thumbs import QUALITY, frame_at, shrink, size_for

    page = (spoken["root"] / "campaign" / "proposals.html").read_text()
    uris = iter(re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page))
    detector = get_detector("centerface", 0.5)
    faces = 0
    for p in spoken["data"]["proposals"]:
        for t in p["thumbs"]:
            shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(next(uris)))).convert("RGB"), np.float32)
            plain = shrink(frame_at(spoken["rush"], t["at"], size_for(640, 360)))
            big = np.asarray(plain.resize((plain.width * 3, plain.height * 3), Image.Resampling.BICUBIC))
            buf = io.BytesIO()
            plain.save(buf, "JPEG", quality=QUALITY)
            plain = Image.open(buf).convert("RGB")
            for d in detector.detect(big):
                x0, y0 = max(0, int(d.x0 / 3)), max(0, int(d.y0 / 3))
                x1, y1 = int(np.ceil(d.x1 / 3)), int(np.ceil(d.y1 / 3))
                change = np.abs(shown[y0:y1, x0:x1] - np.asarray(plain, np.float32)[y0:y1, x0:x1]).mean()
                assert change > 5, f"a face shows at {t['at']} s in {p['id']}: box {(x0, y0, x1, y1)}, change {change:.1f}"
                faces += 1
    assert faces >= 8    # the footage is a street full of people walking towards the camera


@slow
def test_a_detector_that_cannot_run_writes_no_page(spoken, tmp_path, monkeypatch):
    monkeypatch.setenv("CADRE_FACE_MODEL", str(tmp_path / "missing.onnx"))
    monkeypatch.setenv("CADRE_FACE_MODEL_SHA256", "0" * 64)
    result = CliRunner().invoke(main, ["propose", str(spoken["rushes"]), "-o", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert len([ln for ln in result.output.splitlines() if ln.startswith("cadre: error:")]) == 1, result.output
    assert not (tmp_path / "c" / "proposals.html").exists()


@pytest.fixture(scope="module")
def silent(tmp_path_factory, models):
    need_media()
    root = tmp_path_factory.mktemp("silent")
    (root / "rushes").mkdir()
    plan = [("still", "silence", 8), ("footage", "wind", 25), ("black", "silence", 6), ("still", "hiss", 10),
            ("footage", "hiss", 20), ("snow", "hiss", 6)]
    build_rush(root / "rushes" / "quiet.mp4", plan)
    result = CliRunner().invoke(main, ["propose", str(root / "rushes"), "-o", str(root / "campaign")])
    assert result.exit_code == 0, result.output
    return {"root": root, "output": result.output, "data": json.loads((root / "campaign" / "proposals.json").read_text())}


@slow
def test_a_rush_without_speech_proposes_from_motion_and_says_so(silent):
    data = silent["data"]
    assert data["rush_files"][0]["speech"] is False
    assert "no speech heard" in data["rush_files"][0]["note"] and "no speech heard" in silent["output"]
    assert "no speech heard" in (silent["root"] / "campaign" / "proposals.html").read_text()
    footage = [(8.0, 33.0), (49.0, 69.0)]
    assert data["proposals"]
    for p in data["proposals"]:
        assert p["basis"] == "motion" and not p["sentences"]
        moving = sum(max(0.0, min(p["end"], b) - max(p["start"], a)) for a, b in footage)
        assert moving >= 0.6 * (p["end"] - p["start"]), p
    for a, b in footage:
        assert any(p["start"] <= a + 1.5 and p["end"] >= min(b, a + 15) - 1.5 for p in data["proposals"]), (a, b)


# -- bad input ------------------------------------------------------------------------------------
def one_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("cadre: error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_undecodable_rush_and_folder_without_video(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "broken.mp4").write_bytes(os.urandom(50_000))
    line = one_error(CliRunner().invoke(main, ["propose", str(tmp_path / "r1"), "-o", str(tmp_path / "c1")]))
    assert "broken.mp4" in line
    assert not (tmp_path / "c1" / "proposals.json").exists()
    (tmp_path / "r2").mkdir()
    (tmp_path / "r2" / "notes.txt").write_text("no video here")
    line = one_error(CliRunner().invoke(main, ["propose", str(tmp_path / "r2"), "-o", str(tmp_path / "c2")]))
    assert "no video files" in line
    line = one_error(CliRunner().invoke(main, ["propose", str(tmp_path / "nowhere")]))
    assert "rushes folder not found" in line


def test_campaign_and_rushes_stay_apart(tmp_path, clip_factory):
    rushes = tmp_path / "rushes"
    clip_factory("a.mp4", folder="rushes", size="320x180", duration=2)
    line = one_error(CliRunner().invoke(main, ["propose", str(rushes), "-o", str(rushes / "campaign")]))
    assert "inside the rushes folder" in line


@slow
def test_accept_writes_an_episode_that_points_at_the_rush(spoken, tmp_path):
    campaign = tmp_path / "campaign"
    shutil.copytree(spoken["root"] / "campaign", campaign)
    data = json.loads((campaign / "proposals.json").read_text())
    data["campaign"] = str(campaign)
    (campaign / "proposals.json").write_text(json.dumps(data))
    first = data["proposals"][0]
    result = CliRunner().invoke(main, ["propose", str(spoken["rushes"]), "-o", str(campaign), "--accept", first["id"]])
    assert result.exit_code == 0, result.output
    from pipeline.source.episode import load_episode

    episode = load_episode(campaign / first["id"])
    span = episode.spans[0]
    assert span.path.resolve() == spoken["rush"].resolve()
    assert (span.start, span.end) == (pytest.approx(first["start"], abs=0.006), pytest.approx(first["end"], abs=0.006))
    assert not list((campaign / first["id"]).glob("*.mp4"))      # nothing copied
    # accepted twice: refused, the folder kept
    line = one_error(CliRunner().invoke(main, ["propose", str(spoken["rushes"]), "-o", str(campaign), "--accept",
                                               first["id"]]))
    assert "already exists" in line
    line = one_error(CliRunner().invoke(main, ["propose", str(spoken["rushes"]), "-o", str(campaign), "--accept", "x"]))
    assert "no proposal 'x'" in line


def test_a_rush_path_may_not_leave_the_rushes_folder_and_a_moved_root_is_named(tmp_path, clip_factory):
    from pipeline.source.episode import load_episode

    rushes = tmp_path / "rushes"
    clip_factory("a.mp4", folder="rushes", size="320x180", duration=2)
    clip_factory("secret.mp4", folder="elsewhere", size="320x180", duration=2)
    campaign = tmp_path / "campaign"
    (campaign / "ep").mkdir(parents=True)
    (campaign / "campaign.toml").write_text(f'rushes = "{rushes}"\n')
    (campaign / "ep" / "episode.toml").write_text('clips = [{rush = "../elsewhere/secret.mp4"}]\n')
    line = one_error(CliRunner().invoke(main, ["render", str(campaign / "ep")]))
    assert "outside the rushes folder" in line
    (campaign / "ep" / "episode.toml").write_text('clips = [{rush = "a.mp4", start = 0.5, end = 1.5}]\n')
    assert load_episode(campaign / "ep").spans[0].path == rushes / "a.mp4"
    rushes.rename(tmp_path / "moved")
    line = one_error(CliRunner().invoke(main, ["render", str(campaign / "ep")]))
    assert "campaign.toml" in line and "moved" in line and "rushes" in line
    (campaign / "campaign.toml").write_text("")
    line = one_error(CliRunner().invoke(main, ["render", str(campaign / "ep")]))
    assert "declares no rushes folder" in line


def test_sound_events_a_siren_and_a_bang_but_not_a_voice(tmp_path):
    """A wailing tone (800 +- 200 Hz) is a siren, a burst after quiet is a loud change; a voice is neither."""
    from pipeline.core.ffmpeg import run
    from pipeline.propose.listen import listen
    from pipeline.propose.options import ListenOptions

    siren = "0.3*sin(2*PI*(800*t-200*cos(2*PI*0.5*t)/(2*PI*0.5)))*between(t,3,7)"
    bang = "0.6*(random(0)*2-1)*between(t,11,11.6)"
    wav = tmp_path / "events.wav"
    run(["-f", "lavfi", "-i", f"aevalsrc='{siren}+{bang}+0.001*(random(1)*2-1)':s=16000:d=14", str(wav)],
        source=wav, what="fixture")
    events = listen(wav, ListenOptions()).events
    assert [k for t, k in events if 2.5 <= t <= 7 and k == "siren"], events
    assert [k for t, k in events if 10.5 <= t <= 12 and k == "loud change"], events
    if (MEDIA / PASSAGES["fleurs1"]).is_file():
        assert not listen(MEDIA / PASSAGES["fleurs1"], ListenOptions()).events
