"""The master's x264 setting: CPU per frame, file size and SSIM against the source, for the
setting in ``presets/master.toml`` and the ones beside it, on real footage at 1080x1920 30 fps.

    python -m benchmarks encoder [--seconds 8] [--repeats 3]

Two sources, both real pictures: the pedestrians clip (``../shared/media/videos``) cropped to the
vertical frame and looped, and a slow pan over a labelled photo (fine detail: faces, text, fabric).
Each is decoded once to raw frames; every setting then encodes the same raw file with the wheel's
ffmpeg, interleaved ``--repeats`` times (median CPU of the ffmpeg child). SSIM is ffmpeg's ``ssim``
filter over every frame. The check: the preset's setting is no worse in SSIM than the one it
replaced (``fast``, CRF 20) on either source, at no more than 0.6x its CPU.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Benchmark, check, info, interleaved, medians, table  # noqa: E402
from pipeline.core.ffmpeg import ffmpeg_exe, run  # noqa: E402
from pipeline.core.networks import master_profile  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
OLD = ("fast", 20)


def sources(tmp: Path, seconds: float) -> dict[str, Path]:
    video, photo = MEDIA / "videos" / "facenet_pytorch_video.mp4", MEDIA / "images" / "dlib_2008_002470.jpg"
    if not video.is_file() or not photo.is_file():
        sys.exit(f"needs {MEDIA} (the shared real media); it is absent")
    out = {"pedestrians": tmp / "pedestrians.nut", "photo pan": tmp / "pan.nut"}
    run(["-stream_loop", "-1", "-i", str(video), "-t", f"{seconds}", "-vf",
         "scale=-2:1920,crop=1080:1920,fps=30,format=yuv420p", "-c:v", "rawvideo", "-f", "nut",
         str(out["pedestrians"])], source=video, what="raw pedestrians")
    run(["-loop", "1", "-framerate", "30", "-i", str(photo), "-t", f"{seconds}", "-vf",
         "scale=-2:2400,crop=1080:1920:x='(iw-1080)*t/" + f"{seconds}" + "':y=200,format=yuv420p",
         "-c:v", "rawvideo", "-f", "nut", str(out["photo pan"])], source=photo, what="raw photo pan")
    return out


def encode(raw: Path, out: Path, preset: str, crf: int) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(raw), "-c:v", "libx264", "-profile:v", "high",
                    "-pix_fmt", "yuv420p", "-preset", preset, "-crf", str(crf), "-f", "mp4", str(out)], check=True)


def ssim(encoded: Path, raw: Path) -> float:
    err = subprocess.run([ffmpeg_exe(), "-i", str(encoded), "-i", str(raw), "-lavfi", "[0][1]ssim", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    return float(re.search(r"All:([0-9.]+)", err).group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    profile = master_profile()
    new = (profile["x264_preset"], int(profile["crf"]))
    settings = list(dict.fromkeys([OLD, new, ("veryfast", 18), ("superfast", 20)]))
    bench = Benchmark("encoder", "the master's x264 setting: CPU per frame, size and SSIM on real footage",
                      [f"x264 {p} CRF {c}" for p, c in settings if (p, c) != new])
    frames = round(args.seconds * 30)
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="cadre-bench-encoder-") as tmp:
        for name, raw in sources(Path(tmp), args.seconds).items():
            runs = {f"{p} CRF {c}": (lambda p=p, c=c: encode(raw, Path(tmp) / f"{p}{c}.mp4", p, c)) for p, c in settings}
            samples = interleaved(runs, args.repeats)
            for p, c in settings:
                wall, cpu = medians(samples[f"{p} CRF {c}"])
                out = Path(tmp) / f"{p}{c}.mp4"
                figures[(name, p, c)] = {"cpu_per_frame": cpu / frames, "bytes": out.stat().st_size, "ssim": ssim(out, raw)}
                f = figures[(name, p, c)]
                rows.append([name, f"{p} CRF {c}" + (" (preset)" if (p, c) == new else ""), f"{f['cpu_per_frame']:.4f}",
                             f"{f['bytes'] / 1e6:.2f}", f"{f['ssim']:.5f}"])
    table("x264 at 1080x1920 30 fps", ["source", "setting", "CPU s / frame", "MB", "SSIM"], rows)
    for name in ("pedestrians", "photo pan"):
        n, o = figures[(name, *new)], figures[(name, *OLD)]
        bench.add(check(f"SSIM of the preset's setting, {name}", round(n["ssim"], 5), ">=", round(o["ssim"], 5) - 0.0002,
                        baseline=round(o["ssim"], 5), note=f"{new[0]} CRF {new[1]} vs {OLD[0]} CRF {OLD[1]}"))
        bench.add(check(f"CPU per frame / {OLD[0]} CRF {OLD[1]}'s, {name}", round(n["cpu_per_frame"] / o["cpu_per_frame"], 3),
                        "<=", 0.6, baseline=round(o["cpu_per_frame"], 4), unit="x"))
        bench.add(info(f"size / {OLD[0]} CRF {OLD[1]}'s, {name}", round(n["bytes"] / o["bytes"], 3), unit="x"))
    return bench.finish({"frames": frames, "figures": [{"source": k[0], "preset": k[1], "crf": k[2], **v}
                                                       for k, v in figures.items()]})


if __name__ == "__main__":
    sys.exit(main())
