"""A fast 540x960 proxy of the episode with the captions, masks and bleeps as they will be published.

It runs the render's own steps (analysis from the cache, the plan with bleep placeholders, the
mask timeline from ``masks.toml``, the caption and branding overlays, the bleeped audio) and only
changes the last ones: the 1080x1920 frames are scaled to 540x960 after captions are burned, and
encoded fast at a low bit rate. Nothing is written beside the episode; the file goes where the
caller says (the review server keeps it in its own temporary folder).
"""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.geometry import OUT_H, OUT_W
from pipeline.master import plan_master
from pipeline.orchestrator import RenderOptions, prepare
from pipeline.render import encode_master

PROXY_SIZE = (OUT_W // 2, OUT_H // 2)
PROXY_PROFILE = {"x264_preset": "veryfast", "crf": 28}
PROXY_MAXRATE_KBPS = 1500


def render_proxy(folder: str | Path, out_path: Path, options: RenderOptions | None = None,
                 progress=None) -> Path:
    """Write the proxy of the episode in ``folder`` to ``out_path`` (MP4, H.264 + AAC): the master job
    the render builds (:func:`pipeline.master.plan_master`), scaled down after the captions."""
    options = replace(options or RenderOptions(), require_approval=False)
    prepared = prepare(Path(folder), options)
    profile = {**prepared.profile, **PROXY_PROFILE}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cadre-proxy-") as tmp:
        work = Path(tmp)
        setup = plan_master(prepared, work, parts=False)
        audio = work / "audio.m4a"
        setup.audio(prepared, audio, profile)
        scale = lambda v: v.filter("scale", PROXY_SIZE[0], PROXY_SIZE[1], flags="bilinear")  # noqa: E731
        encode_master(setup.job(audio, out_path, profile, PROXY_MAXRATE_KBPS, extra_overlays=(scale,)), progress)
    return out_path


@dataclass
class ProxyJob:
    """The proxy of one review session, rendered in a background thread on request."""

    folder: Path
    workdir: Path
    options: RenderOptions = field(default_factory=RenderOptions)
    state: str = "none"                   # none | running | done | failed
    error: str = ""
    done: int = 0
    total: int = 0
    version: int = 0                      # bumped at every finished render (cache-busting URL)
    elapsed: float = 0.0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._again = False

    @property
    def path(self) -> Path:
        return self.workdir / "proxy.mp4"

    def to_dict(self) -> dict:
        return {"state": self.state, "error": self.error, "done": self.done, "total": self.total,
                "version": self.version, "elapsed": round(self.elapsed, 1)}

    def start(self) -> None:
        """Render now, or once more after the running render if one is under way."""
        with self._lock:
            if self.state == "running":
                self._again = True
                return
            self.state, self.error = "running", ""
        threading.Thread(target=self._run, name="cadre-proxy", daemon=True).start()

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self) -> None:
        while True:
            t0 = time.monotonic()
            try:
                render_proxy(self.folder, self.path, self.options, self._progress)
                state, error = "done", ""
            except CadreError as exc:
                state, error = "failed", str(exc)
            except Exception as exc:  # shown on the page; the server keeps running
                state, error = "failed", f"{exc.__class__.__name__}: {exc}"
            with self._lock:
                self.elapsed = time.monotonic() - t0
                if state == "done":
                    self.version += 1
                if self._again:
                    self._again = False
                    continue
                self.state, self.error = state, error
                return
