"""Issue 29: the memory a long episode needs does not grow with its length.

- The C heaps are handed back to the system as the face analysis goes (``core/heap.py``): freed
  memory left in glibc's heaps made the analysis of a 1080p crowd grow about 36 MiB per minute.
- A long shot's framing subjects (``reframe/subjects.py``) are written in place, each track over its
  own span: the same values as rows computed over the whole shot, without the copies that doubled
  the table. A clip's tracks are chained once for all its sections, comparing open chains only: the
  same chains, where chaining every track for every shot grew as the cube of the clip's length.

Sizes and counts only, never times.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from pipeline.core import heap
from pipeline.faces import analysis
from pipeline.faces.linking import Track
from pipeline.faces.settings import load_settings
from pipeline.reframe import subjects as subjects_module
from pipeline.reframe.options import FRAMING
from pipeline.reframe.subjects import (
    _slack,
    chain,
    chained,
    robust_keyframes,
    smooth,
    subjects,
)
from pipeline.source.normalize import FPS, ClipSpan
from pipeline.source.probe import probe

OPT = FRAMING.subjects
FIELDS = ("x0", "x1", "h", "y0", "rx0", "rx1", "slack")


def whole_rows(tracks, start: int, end: int) -> dict[str, np.ndarray]:
    """Each chained track's values computed over every frame of ``[start, end)`` (what
    ``subjects`` did before it wrote each row over its own span)."""
    frames = np.arange(start, end)
    out: dict[str, list] = {f: [] for f in FIELDS}
    for t in chain(tracks):
        kf = np.asarray(t.frames)
        if kf[-1] + OPT.hold < start or kf[0] - OPT.hold >= end:
            continue
        kb = robust_keyframes(kf, np.asarray(t.boxes, dtype=np.float64))
        inside = (frames >= kf[0] - OPT.hold) & (frames <= kf[-1] + OPT.hold)
        cols = [np.interp(np.clip(frames, kf[0], kf[-1]), kf, kb[:, j]) for j in range(4)]
        raw = (cols[0], cols[2], _slack(frames, kf, kb))
        cols = [smooth(c, OPT.box_smooth) for c in cols]
        for name, values in zip(FIELDS, (cols[0], cols[2], cols[3] - cols[1], cols[1], *raw)):
            out[name].append(np.where(inside, values, np.nan))
    return {f: np.asarray(v).reshape(len(v), len(frames)) for f, v in out.items()}


def crowd_tracks(rng, frames: int, on_screen: int = 10, length: int = 300, step: int = 1) -> list[Track]:
    """About ``on_screen`` faces at a time over ``frames``, each seen for up to ``length`` frames
    every ``step`` frames, drifting: a long shot of a crowd walking by."""
    tracks = []
    for i in range(frames * on_screen // length):
        a = int(rng.integers(-length // 2, frames))
        kf = list(range(a, a + int(rng.integers(2, length)), step))
        x, y = rng.random(2) * 0.8
        dx = rng.normal(0, 0.002)
        boxes = [[x + dx * k, y, x + dx * k + 0.05, y + 0.08] for k in range(len(kf))]
        tracks.append(Track(f"t{i}", kf, boxes, [0.9] * len(kf)))
    return tracks


@pytest.mark.parametrize("seed", range(6))
def test_subjects_written_in_place_equal_whole_rows(seed):
    rng = np.random.default_rng(seed)
    frames = int(rng.integers(1, 900))
    tracks = crowd_tracks(rng, frames + 200, on_screen=int(rng.integers(1, 12)), length=int(rng.integers(3, 200)),
                          step=int(rng.integers(1, 4)))
    start = int(rng.integers(0, 100))
    got, want = subjects(tracks, start, start + frames), whole_rows(tracks, start, start + frames)
    assert got.x0.shape == want["x0"].shape
    assert got.ids == tuple(c.ids for c in chain(tracks) if c.frames[-1] + OPT.hold >= start
                            and c.frames[0] - OPT.hold < start + frames)
    for name in FIELDS:
        assert np.array_equal(getattr(got, name), want[name], equal_nan=True), name


def test_a_long_shot_builds_its_subjects_without_copies():
    """Four minutes of one shot of a crowd: the table (7 values per track and frame) is the only
    thing of that size made; the old rows, copied into it, made the peak twice the table."""
    tracks = crowd_tracks(np.random.default_rng(29), 4 * 60 * FPS)
    tracemalloc.start()
    try:
        subj = subjects(tracks, 0, 4 * 60 * FPS)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    table = 7 * subj.x0.size * 8
    assert subj.x0.shape[0] > 100 and table > 50 * 2 ** 20, "the test needs a large table"
    assert kept >= table
    assert peak < 1.25 * table, f"peak {peak / 2**20:.0f} MiB for a table of {table / 2**20:.0f} MiB"


def all_pairs_chain(tracks) -> list[tuple]:
    """Chains as :func:`chain` made them before it compared open chains only: each track with every
    chain made so far. ``(ids, frames)`` of each."""
    chains: list[list] = []
    for t in sorted(tracks, key=lambda t: t.frames[0]):
        b0 = np.asarray(t.boxes[0], dtype=np.float64)
        best, best_d = None, np.inf
        for c in chains:
            gap = t.frames[0] - c[1][-1]
            last = np.asarray(c[2][-1], dtype=np.float64)
            size = (b0[3] - b0[1]) / max(last[3] - last[1], 1e-6)
            d = abs((b0[0] + b0[2]) - (last[0] + last[2])) / 2
            if (0 < gap <= OPT.link_gap and 1 / OPT.link_size <= size <= OPT.link_size
                    and d <= OPT.link_speed * gap and d < best_d):
                best, best_d = c, d
        if best is None:
            chains.append([(t.id,), list(t.frames), [list(b) for b in t.boxes]])
        else:
            best[0] += (t.id,)
            best[1] += list(t.frames)
            best[2] += [list(b) for b in t.boxes]
    return [(c[0], c[1]) for c in chains]


@pytest.mark.parametrize("seed", range(4))
def test_chaining_open_chains_only_gives_the_same_chains(seed):
    rng = np.random.default_rng(seed)
    tracks = crowd_tracks(rng, 2000, on_screen=int(rng.integers(2, 15)), length=int(rng.integers(3, 60)))
    got = [(c.ids, c.frames) for c in chain(tracks)]
    assert got == all_pairs_chain(tracks)
    assert sum(len(ids) > 1 for ids, _ in got) > 5, "the test needs tracks that chain"


def test_chains_keep_their_keyframes_in_arrays():
    """Held with the tracks through the render (``_last_chains``): a long crowd's chains as lists
    of Python numbers took about 60 MiB for 10 minutes."""
    from pipeline.core.rows import Rows

    tracks = crowd_tracks(np.random.default_rng(3), 3000)
    chains = chain(tracks)
    assert chains and all(isinstance(c.frames, Rows) and isinstance(c.boxes, Rows) for c in chains)
    assert all(np.asarray(c.boxes).shape == (len(c.frames), 4) and np.asarray(c.frames).dtype == np.int64
               for c in chains)
    assert sum(len(c.frames) for c in chains) == sum(len(t.frames) for t in tracks)


def test_a_clips_tracks_are_chained_once_for_all_its_sections(monkeypatch):
    calls = []
    monkeypatch.setattr(subjects_module, "chain", lambda tracks: calls.append(1) or chain(tracks))
    monkeypatch.setattr(subjects_module, "_last_chains", [])
    tracks = crowd_tracks(np.random.default_rng(7), 3000)
    for start in range(0, 3000, 150):
        subjects(tracks, start, start + 150)
    assert len(calls) == 1
    assert [(c.ids, c.frames) for c in chained(tracks)] == [(c.ids, c.frames) for c in chain(tracks)]
    tracks[0].frames.append(tracks[0].frames[-1] + 1)     # another clip's tracks, or these changed
    tracks[0].boxes.append(tracks[0].boxes[-1])
    subjects(tracks, 0, 150)
    assert len(calls) == 2
    subjects(list(tracks), 150, 300)                      # the same tracks in another list
    assert len(calls) == 2


def test_trimmed_yields_every_item_and_trims_before_and_every_n(monkeypatch):
    calls = []
    monkeypatch.setattr(heap, "trim", lambda: calls.append(len(seen)) or True)
    seen: list[int] = []
    for item in heap.trimmed(iter(range(10)), 4):
        seen.append(item)      # noqa: PERF402 (one at a time: the trims record how many came before)
    assert seen == list(range(10))
    assert calls == [0, 4, 8]        # before the first item, then after every 4th


TRIM_CHECK = """
import json, os
from pipeline.core import heap
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = rss()
blocks = [bytes(2048) for _ in range(20000)]      # 40 MiB from the C heap (more than pymalloc's 512 B)
held = blocks[::64]
del blocks
freed = rss()
trimmed = heap.trim()
print(json.dumps({"kept": freed - before, "given": freed - rss(), "trimmed": trimmed, "held": len(held)}))
"""


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter (a long test session's heap holds free blocks of its own,
    which would hide or fake the growth measured) and read the JSON it prints."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm (Linux)")
def test_trim_hands_the_freed_heap_back():
    """Blocks freed between blocks still held stay in glibc's heap until trimmed."""
    got = _fresh(TRIM_CHECK)
    if not got["trimmed"]:
        pytest.skip("the C library is not glibc: no malloc_trim")
    assert got["kept"] > 30 * 2 ** 20, "the blocks should have stayed in the heap once freed"
    assert got["given"] > 25 * 2 ** 20, f"trim gave back {got['given'] / 2**20:.1f} MiB"
    assert got["held"] == 313


def test_the_face_analysis_trims_the_heap_as_frames_go_by(clip_factory, monkeypatch, tmp_path):
    """The real analysis (real CenterFace) trims before its first frame, after every
    ``TRIM_EVERY`` frames (10 here, on a clip of 35 frames) and once its tracks are re-homed."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(analysis, "TRIM_EVERY", 10)
    clip = clip_factory(size="320x180", duration=35 / FPS, audio=False)
    calls = []
    real = heap.trim
    monkeypatch.setattr(heap, "trim", lambda: calls.append(1) or real())
    span = ClipSpan(clip, probe(clip))
    tracks = analysis.analyse_faces(span, load_settings("mosaic"))
    assert span.frame_count == 35 and tracks.analysis["analysed_frames"] == 35
    assert len(calls) == 5


ORT_CHECK = """
import json, os
import numpy as np
from pipeline.faces.detectors.centerface import CenterFace
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
try:
    det = CenterFace(runtime="onnxruntime")
except ImportError:
    print(json.dumps({"grown": None}))
    raise SystemExit(0)
frame = np.random.default_rng(0).integers(0, 255, (480, 480, 3), np.uint8)
det.detect(frame)                    # the largest size first: the arena has grown to it
before = rss()
sizes = [(h, w) for h in range(64, 480, 32) for w in range(64, 480, 32)]
for h, w in sizes:
    det.detect(np.ascontiguousarray(frame[:h, :w]))
print(json.dumps({"grown": (rss() - before) / 2 ** 20, "sizes": len(sizes)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm (Linux)")
def test_onnxruntime_keeps_nothing_per_window_size():
    """The looks around small faces (``revisit.py``) feed the detector windows of many sizes: the
    session keeps no memory pattern per size (with patterns: +18 MiB over these 169 sizes)."""
    got = _fresh(ORT_CHECK)
    if got["grown"] is None:
        pytest.skip("onnxruntime is not installed")
    assert got["grown"] < 8, f"{got['grown']:.1f} MiB more after {got['sizes']} window sizes"


def test_opencv_keeps_a_bounded_number_of_networks_over_many_window_sizes():
    """``cv2.dnn`` needs a network per input size: at most 8 are kept, and a size whose network was
    dropped finds the same faces with a new one."""
    from pipeline.faces.detectors.centerface import CenterFace

    det = CenterFace(runtime="opencv")
    frame = np.random.default_rng(1).integers(0, 255, (416, 416, 3), np.uint8)
    first = det.detect(frame[:64, :96].copy(), 0.001)
    assert first, "the test needs boxes to compare"
    for k in range(12):
        det.detect(np.ascontiguousarray(frame[:96 + 32 * k, :128]))
        assert len(det._nets) <= 8
    assert (64, 96) not in det._nets
    assert det.detect(frame[:64, :96].copy(), 0.001) == first


# ------------------------------------------------------------------ Whisper's features in blocks

def _speech(shared_media: Path, seconds: float) -> np.ndarray:
    """Real French speech, looped to ``seconds`` of 16 kHz audio."""
    from pipeline.speech.audio import stream_audio

    wav = sorted((shared_media / "audio" / "fr").glob("*.wav"))[0]
    one = np.concatenate(list(stream_audio(wav)))
    return np.resize(one, int(seconds * 16000))


@pytest.mark.parametrize("seconds", [0.0, 0.002, 0.005, 0.3, 29.99, 30.0, 61.7])
def test_block_features_equal_faster_whispers_bit_for_bit(shared_media, seconds):
    """Bit for bit, not nearly: the Mel product per block differed in the last bit, and Whisper
    then heard a different word in one of 113 (BLAS sums in an order that depends on the width)."""
    from faster_whisper.feature_extractor import FeatureExtractor

    from pipeline.speech.features import BLOCK, BlockFeatures

    audio = _speech(shared_media, seconds)
    ours, theirs = BlockFeatures()(audio, chunk_length=30), FeatureExtractor()(audio, chunk_length=30)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)
    if seconds > 60:
        assert ours.shape[1] > 2 * BLOCK           # several blocks, one of them partial


def test_block_features_memory_grows_a_quarter_as_fast(shared_media):
    """What the features need per minute of audio (the transcription window is up to 600 s):
    faster-whisper's whole-window arrays against one array of magnitudes, blocks of fixed size."""
    from faster_whisper.feature_extractor import FeatureExtractor

    from pipeline.speech.features import BlockFeatures

    peaks = {}
    for seconds in (120.0, 240.0):
        audio = _speech(shared_media, seconds)
        for cls in (FeatureExtractor, BlockFeatures):
            extractor = cls()
            tracemalloc.start()
            extractor(audio, chunk_length=30)
            peaks[cls.__name__, seconds] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    growth = {name: peaks[name, 240.0] - peaks[name, 120.0] for name in ("FeatureExtractor", "BlockFeatures")}
    assert growth["BlockFeatures"] < 0.3 * growth["FeatureExtractor"], (growth, peaks)


def test_the_engine_computes_its_features_in_blocks():
    from pipeline.speech.engines import load_engine
    from pipeline.speech.engines.base import TranscribeOptions
    from pipeline.speech.features import BlockFeatures

    engine = load_engine(TranscribeOptions(language="fr"))
    assert isinstance(engine.model.feature_extractor, BlockFeatures)


# ------------------------------------------------------------------ a long clip's tracks in arrays

def test_rows_read_as_the_lists_they_replace():
    import pickle

    from pipeline.core.rows import Rows

    lists = [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.15, 0.25, 0.35, 0.45]]
    rows, frames = Rows(lists, width=4), Rows([3, 7, 9], np.int64)
    assert rows[1] == lists[1] and type(rows[1][0]) is float and frames[-1] == 9 and type(frames[0]) is int
    assert rows[1:] == lists[1:] and list(rows) == lists and rows == lists and frames == [3, 7, 9]
    assert len(rows) == 3 and bool(rows) and not Rows((), width=5) and Rows((), width=5).array.shape == (0, 5)
    assert np.asarray(rows) is rows.array and np.asarray(rows, dtype=np.float64) is rows.array
    copied = np.array(rows)
    copied[0, 0] = 9.0                  # a copy asked for is a copy: the rows stay as they were
    assert rows[0] == lists[0]
    assert [[f, *b] for f, b in zip(frames, rows)] == [[f, *b] for f, b in zip([3, 7, 9], lists)]
    rows.append([0.9, 0.9, 1.0, 1.0])
    rows += [[0.0, 0.0, 0.1, 0.1]]
    frames.append(12)
    assert len(rows) == 5 and rows[-1] == [0.0, 0.0, 0.1, 0.1] and frames == [3, 7, 9, 12]
    assert pickle.loads(pickle.dumps(rows)) == rows
    with pytest.raises(TypeError):
        rows[0] = [1, 1, 1, 1]          # never changed in place by mistake


HELD = """
import gc, json, random, sys
from pipeline.core.heap import rehomed, trim
from pipeline.faces.tracking import FaceTracks

def rss():
    gc.collect()
    trim()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20

rng = random.Random(0)
frames = 18000                                  # 10 minutes of a crowd: 330 tracks a minute
tracks = []
for n in range(3300):
    first = rng.randrange(frames - 60)
    kf = list(range(first, first + 58))
    box = lambda: [round(rng.random(), 5) for _ in range(4)]
    carry = lambda f: [[f + i, *[round(rng.random(), 5) for _ in range(4)]] for i in range(1, 33)]
    tracks.append({"id": f"t{n}", "frames": kf, "boxes": [box() for _ in kf], "scores": [0.9] * len(kf),
                   "carry_before": carry(first - 6), "carry_after": carry(kf[-1]),
                   "carry_gaps": [[kf[k], kf[k] + i, 1.0, round(rng.random(), 6), 0.0] for k in (10, 30)
                                  for i in range(1, 31)]})
text = json.dumps({"clip": "1.mp4", "start": 0.0, "frame_count": frames, "pad": 1.5, "extend": 15,
                   "analysis": {}, "tracks": tracks})
del tracks
base = rss()
as_lists = json.loads(text)
lists = rss() - base
del as_lists
base = rss()
data = json.loads(text)
restored = FaceTracks.from_dict(data)
del data
restored = rehomed(restored)
print(json.dumps({"lists": lists, "arrays": rss() - base, "boxes": sum(len(t.frames) for t in restored.tracks)}))
"""


def test_a_ten_minute_crowds_tracks_are_held_in_arrays():
    """As the analysis returns them (from the cache or just made): the tracks of a 10-minute
    crowd (as many keyframes and carried rows a minute as the real crowd clip's), held for the
    whole render, in well under half the memory their lists took (resident memory, after the heaps
    are trimmed: objects made while the lists lived would keep their arenas; 173 -> 59 MiB)."""
    out = subprocess.run([sys.executable, "-c", HELD], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    held = json.loads(out.stdout)
    assert held["boxes"] == 3300 * 58
    assert held["lists"] > 120 and held["arrays"] < 0.4 * held["lists"], held


@pytest.mark.media
def test_tracks_just_made_equal_the_tracks_read_back(shared_media, monkeypatch, tmp_path):
    """The first render's tracks (made, then stored) and a re-render's (read from the cache) are the
    same values in the same arrays, so both mask the same pixels (2 s of the real crowd)."""
    monkeypatch.setenv("CADRE_CACHE_DIR", str(tmp_path / "cache"))
    path = shared_media / "videos" / "facenet_pytorch_video.mp4"
    span = ClipSpan(path, probe(path), start=1.0, end=3.0)
    made = analysis.analyse_faces(span, load_settings("mosaic"))
    read = analysis.analyse_faces(span, load_settings("mosaic"))
    assert len(made.tracks) >= 5 and made.tracks == read.tracks and made.analysis == read.analysis
    assert all(np.asarray(t.boxes).dtype == np.float64 and np.asarray(t.frames).dtype == np.int64 for t in read.tracks)
    for n in range(span.frame_count):
        assert made.track_boxes_at(n) == read.track_boxes_at(n)
