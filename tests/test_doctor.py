"""Issue 12: `cadre doctor` says whether this machine can render and what to fix."""
from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.doctor import check_scheduler, cpu_info

EXPECTED = {"python", "cadre", "ffmpeg", "ffmpeg: libx264 encoder", "ffmpeg: ass/subtitles filters (libass)",
            "ffmpeg: loudnorm filter", "ffmpeg: zscale filter", "ffmpeg: shipped font through fontsdir",
            "whisper model base (default)", "face model (CenterFace)", "cpu", "whisper compute types (CTranslate2)",
            "opencv dnn", "onnxruntime", "cache folder", "export folder", "review page (cadre review)"}


def doctor(*args):
    return CliRunner().invoke(main, ["doctor", *map(str, args)])


def test_doctor_json_passes_on_this_machine(tmp_path):
    result = doctor("--json", "--episode", tmp_path / "ep")
    data = json.loads(result.output)
    failed = [c for c in data["checks"] if c["required"] and not c["ok"]]
    assert result.exit_code == 0 and data["ok"], failed
    names = {c["name"] for c in data["checks"]}
    assert EXPECTED <= names, EXPECTED - names
    for c in data["checks"]:
        assert set(c) == {"name", "ok", "required", "detail", "fix"}
        assert c["ok"] or c["fix"], c                     # every failure says what to do
    by_name = {c["name"]: c for c in data["checks"]}
    assert "pinned sha256" in by_name["face model (CenterFace)"]["detail"]
    assert "auto picks" in by_name["whisper compute types (CTranslate2)"]["detail"]
    assert str(tmp_path / "exports") in by_name["export folder"]["detail"]
    assert "pixels" in by_name["ffmpeg: shipped font through fontsdir"]["detail"]


def test_doctor_table(tmp_path):
    result = doctor("--episode", tmp_path / "ep")
    assert result.exit_code == 0, result.output
    assert "cadre doctor" in result.output and "face model (CenterFace)" in result.output


def test_doctor_missing_ffmpeg(tmp_path, monkeypatch):
    gone = tmp_path / "no-ffmpeg"
    monkeypatch.setenv("CADRE_FFMPEG", str(gone))
    result = doctor("--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert not data["ok"]
    ffmpeg = next(c for c in data["checks"] if c["name"] == "ffmpeg")
    assert not ffmpeg["ok"] and ffmpeg["required"]
    assert "CADRE_FFMPEG" in ffmpeg["fix"] and "\n" not in ffmpeg["fix"]


def test_doctor_unpinned_face_model(tmp_path, monkeypatch):
    from pipeline.faces.detectors.centerface import model_path

    data = bytearray(model_path().read_bytes())
    data[len(data) // 2] ^= 1
    copy = tmp_path / "cf.onnx"
    copy.write_bytes(data)
    monkeypatch.setenv("CADRE_FACE_MODEL", str(copy))
    monkeypatch.delenv("CADRE_FACE_MODEL_SHA256", raising=False)
    result = doctor("--json")
    assert result.exit_code == 1
    face = next(c for c in json.loads(result.output)["checks"] if c["name"] == "face model (CenterFace)")
    assert not face["ok"] and "CADRE_FACE_MODEL_SHA256" in face["fix"]


def test_scheduler_check():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert check_scheduler(f"tcp://127.0.0.1:{port}").ok
    closed = check_scheduler(f"tcp://127.0.0.1:{port}")
    assert not closed.ok and not closed.required and closed.fix
    assert not check_scheduler("nonsense").ok


def test_optional_scheduler_does_not_fail_doctor(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = doctor("--json", "--scheduler", f"tcp://127.0.0.1:{port}")
    data = json.loads(result.output)
    sched = next(c for c in data["checks"] if c["name"] == "dask scheduler")
    assert not sched["ok"] and result.exit_code == 0


def test_cpu_info_reads_flags():
    info = cpu_info()
    assert info["model"] and info["cores"] >= 1
    assert set(info["flags"]) <= {"avx", "avx2", "avx512f", "fma", "f16c", "asimd", "neon"}


def _face_line(monkeypatch, runtime: str | None) -> str:
    if runtime is None:
        monkeypatch.delenv("CADRE_FACE_RUNTIME", raising=False)
    else:
        monkeypatch.setenv("CADRE_FACE_RUNTIME", runtime)
    result = doctor("--json")
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    return checks["face model (CenterFace)"]["detail"] + " | " + checks["onnxruntime"]["detail"]


def test_doctor_reports_the_runtime_the_detector_chose(monkeypatch):
    """The doctor asks the detector which runtime it runs on (issue 27): it once said cv2.dnn while
    the detector ran on onnxruntime."""
    import pytest

    from pipeline.faces.detectors.centerface import CenterFace

    pytest.importorskip("onnxruntime", reason="the default runtime is onnxruntime only when it is installed")
    monkeypatch.delenv("CADRE_FACE_RUNTIME", raising=False)
    assert CenterFace().runtime == "onnxruntime"
    line = _face_line(monkeypatch, None)
    assert line.startswith("runs on onnxruntime;") and "the face detector runs on onnxruntime" in line, line
    assert "cv2.dnn" not in line, line
    line = _face_line(monkeypatch, "opencv")
    assert line.startswith("runs on OpenCV's cv2.dnn;") and "the face detector runs on OpenCV's cv2.dnn" in line, line
    assert "runs on onnxruntime" not in line, line
