"""``read_frames(only=...)``: ffmpeg picks the wanted frames of the normalised clip before scaling
them (the contact sheet's tiles, issue 29), and they are the same pictures, with the same indices,
as a full read gives, even for hundreds of frames (a crowd's sheet: a sum of that many ``eq()``
terms made ffmpeg fail with "Cannot allocate memory")."""
from __future__ import annotations

import numpy as np

from pipeline.core.ffmpeg import run
from pipeline.source.normalize import ClipSpan, read_frames
from pipeline.source.probe import probe


def test_only_gives_the_wanted_frames_as_a_full_read_does(tmp_path):
    clip = tmp_path / "clip.mp4"
    run(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=12", "-c:v", "libx264", "-preset", "veryfast",
         "-pix_fmt", "yuv420p", str(clip)], source=clip, what="test clip")
    span = ClipSpan(clip, probe(clip), 0.5, 11.5)          # 30 fps from 25: the normalising chain's own frames
    full = {i: f.copy() for i, f in read_frames(span, width=64)}
    assert len(full) == span.frame_count == 330
    wanted = set(range(0, 330, 2)) | {1, 3, 329}               # 168 frames, in no regular step
    got = [(i, f.copy()) for i, f in read_frames(span, width=64, only=wanted | {400})]   # 400: past the end
    assert [i for i, _ in got] == sorted(wanted)
    assert all(np.array_equal(f, full[i]) for i, f in got)
    few = [i for i, _ in read_frames(span, width=64, only={7, 100})]
    assert few == [7, 100]
