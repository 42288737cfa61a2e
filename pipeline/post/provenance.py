"""Content credentials (C2PA): each published MP4 and cover signed by the unit, and read back.

``provenance = "sign"`` (or ``"required"``) in ``campaign.toml`` and the unit's key and certificate
chain::

    provenance = "required"        # off (default) | sign | required
    [signing]
    unit = "Gendarmerie nationale - Brigade de Rennes"   # who made the video, as the manifest says
    key = "keys/unit.key"          # PEM private key (PKCS#8 or EC); beside campaign.toml, or absolute
    certs = "keys/unit-chain.pem"  # PEM chain, the signing certificate first

or ``CADRE_SIGNING_KEY``, ``CADRE_SIGNING_CERTS`` and ``CADRE_SIGNING_UNIT`` in the environment
(the table wins). The key and chain are read where they are; nothing of them but the public
chain (inside each signature) reaches the exports.

Signing uses ``c2pa-python`` (MIT/Apache-2.0), offline, after the file's last byte is written and
before it is published (in the staging folder). The manifest holds: the unit as the author
(schema.org ``CreativeWork``), Cadre and its version as the claim generator and each action's
software agent, and what was done as C2PA actions (``c2pa.created`` from a digital capture, then
reframed, captions burned, faces masked and how, voices disguised, sound bleeped, encoded). It never
holds an ingredient or a thumbnail (the unmasked source would show in it), GPS, a file path or a
reviewer's name: the title is the episode's title.

``"required"`` with a missing, unreadable, mismatched, expired or not-yet-valid key or chain
refuses in one line before any work (:func:`preflight`); ``"sign"`` warns and publishes unsigned.
:func:`verify` reads a file back for ``cadre verify``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.core.errors import CadreError
from pipeline.core.version import __version__

MODES = ("off", "sign", "required")
ENV = {"key": "CADRE_SIGNING_KEY", "certs": "CADRE_SIGNING_CERTS", "unit": "CADRE_SIGNING_UNIT"}
CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
FORMATS = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
AGENT = {"name": "Cadre", "version": __version__}


@dataclass(frozen=True)
class Signing:
    mode: str                              # off | sign | required
    unit: str = ""
    key: Path | None = None
    certs: Path | None = None
    source: str = ""                       # where the settings came from (error lines)
    alg: str = ""                          # set once checked (ES256, ...)
    key_pem: bytes = field(default=b"", repr=False)
    chain_pem: bytes = field(default=b"", repr=False)

    @property
    def ready(self) -> bool:
        return bool(self.key_pem and self.chain_pem)


def signing_settings(settings, episode_dir: Path) -> Signing:
    """The episode's signing settings, paths resolved (``[signing]`` beside ``campaign.toml``)."""
    mode = getattr(settings, "provenance", "off") or "off"
    table = dict(getattr(settings, "signing", {}) or {})
    campaign = Path(episode_dir).parent / "campaign.toml"
    source = str(campaign if campaign.is_file() else Path(episode_dir) / "episode.toml")
    unknown = set(table) - {"unit", "key", "certs"}
    if unknown:
        raise CadreError(source, f"key 'signing.{sorted(unknown)[0]}': unknown key; allowed keys: unit, key, certs")
    values = {}
    for name in ("unit", "key", "certs"):
        value = table.get(name, os.environ.get(ENV[name], ""))
        if not isinstance(value, str):
            raise CadreError(source, f"key 'signing.{name}': {value!r} must be text")
        values[name] = value.strip()
    resolve = lambda v: (Path(v).expanduser() if Path(v).expanduser().is_absolute()   # noqa: E731
                         else Path(episode_dir).parent / v) if v else None
    return Signing(mode, values["unit"], resolve(values["key"]), resolve(values["certs"]), source)


def _algorithm(key) -> str | None:
    from cryptography.hazmat.primitives.asymmetric import (  # lazy: only when signing
        ec,
        ed25519,
        rsa,
    )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(key.curve.name)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ED25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "PS256"
    return None


def load(signing: Signing, now: datetime | None = None) -> Signing:
    """``signing`` with its key (as PKCS#8) and chain read and checked; raises one line otherwise."""
    from cryptography import x509  # lazy: only when signing
    from cryptography.hazmat.primitives import serialization  # lazy: only when signing
    src = signing.source
    if not signing.unit:
        raise CadreError(src, "provenance: no unit name; add unit = \"...\" to [signing] (or set CADRE_SIGNING_UNIT)")
    for what, path, env in (("key", signing.key, ENV["key"]), ("certs", signing.certs, ENV["certs"])):
        if path is None:
            raise CadreError(src, f"provenance: no signing {what}; add {what} = \"path\" to [signing] (or set {env})")
        if not path.is_file():
            raise CadreError(path, f"the signing {what} file is missing; give the unit's {what} file in [signing]")
    try:
        key = serialization.load_pem_private_key(signing.key.read_bytes(), password=None)
    except TypeError:
        raise CadreError(signing.key, "the signing key is protected by a password; export it without one "
                                      "(PKCS#8 PEM) and keep the file where only the unit can read it") from None
    except (ValueError, OSError) as exc:
        raise CadreError(signing.key, f"is not a PEM private key ({exc}); give the unit's key as PKCS#8 PEM") from None
    alg = _algorithm(key)
    if alg is None:
        raise CadreError(signing.key, "the key type cannot sign C2PA manifests; use an EC P-256 (ES256) key")
    try:
        chain = x509.load_pem_x509_certificates(signing.certs.read_bytes())
    except (ValueError, OSError) as exc:
        raise CadreError(signing.certs, f"is not a PEM certificate chain ({exc}); give the chain, signing "
                                        "certificate first") from None
    leaf = chain[0]
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(serialization.Encoding.PEM, pub) != \
            key.public_key().public_bytes(serialization.Encoding.PEM, pub):
        raise CadreError(signing.certs, f"the first certificate is not the signing key's ({signing.key.name}); "
                                        "put the key's own certificate first in the chain")
    now = now or datetime.now(timezone.utc)
    if now > leaf.not_valid_after_utc:
        raise CadreError(signing.certs, f"the signing certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}; "
                                        "renew the unit's certificate")
    if now < leaf.not_valid_before_utc:
        raise CadreError(signing.certs, f"the signing certificate is valid only from {leaf.not_valid_before_utc:%Y-%m-%d}")
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    return Signing(signing.mode, signing.unit, signing.key, signing.certs, signing.source, alg, pkcs8, chain_pem)


def preflight(settings, episode_dir: Path) -> tuple[Signing, str | None]:
    """Before any work: ``(signing, warning)``. ``required`` raises when the key cannot sign;
    ``sign`` returns a warning and an unusable setup (the files are published unsigned)."""
    if getattr(settings, "provenance", "off") not in ("sign", "required"):
        return Signing("off"), None
    signing = signing_settings(settings, episode_dir)
    try:
        return load(signing), None
    except CadreError as exc:
        if signing.mode == "required":
            raise CadreError(exc.path, f"provenance = \"required\": {exc.message}") from None
        return signing, f"provenance = \"sign\" but the files cannot be signed: {exc}; publishing them unsigned"


# ---- the manifest ----------------------------------------------------------------------------

def _action(name: str, description: str, **extra) -> dict:
    return {"action": name, "softwareAgent": AGENT, "description": description, **extra}


def actions(report: dict) -> list[dict]:
    """What was done, as C2PA actions, from the network's ``report.json`` (no term, name or path)."""
    out = [_action("c2pa.created", "filmed by the unit", digitalSourceType=CAPTURE)]
    strategies = sorted({str(r.get("strategy") if isinstance(r, dict) else r)
                         for r in (s.get("reframe") for s in report.get("sources", [])) if r})
    if strategies:
        cropped = any(s in ("crop", "follow", "auto") for s in strategies)
        out.append(_action("c2pa.cropped" if cropped else "c2pa.resized",
                           f"reframed to vertical 1080x1920 ({', '.join(strategies)})"))
    captions = report.get("captions")
    if captions:
        out.append(_action("c2pa.edited", "captions burned in"))
    redaction = report.get("redaction") or {}
    masked = redaction.get("masked") or []
    faces = sum(1 for m in masked if m.get("kind") == "face")
    regions = sum(1 for m in masked if m.get("kind") not in ("face", "voice"))
    method = redaction.get("method", "")
    if (faces or regions) and method != "none":   # masking off, or nothing found: nothing is claimed
        what = ", ".join(p for p in (f"{faces} face(s)" if faces else "", f"{regions} region(s)" if regions else "") if p)
        out.append(_action("c2pa.filtered", f"masked by {method}: {what}"))
    voices = redaction.get("voices") or []
    if voices:
        out.append(_action("c2pa.filtered", f"{len(voices)} voice span(s) disguised"))
    bleeps = (redaction.get("bleeps") or {}).get("spans") or []
    if bleeps:
        out.append(_action("c2pa.edited", f"sound bleeped at {len(bleeps)} place(s)"))
    out.append(_action("c2pa.transcoded", "encoded as H.264 / AAC for publication"))
    return out


def manifest(signing: Signing, title: str, done: list[dict]) -> dict:
    return {
        "claim_generator_info": [AGENT],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": done}},
            {"label": "stds.schema-org.CreativeWork",
             "data": {"@context": "https://schema.org", "@type": "CreativeWork",
                      "author": [{"@type": "Organization", "name": signing.unit}],
                      "dateCreated": datetime.now(timezone.utc).isoformat(timespec="seconds")}},
        ],
    }


def sign_file(path: Path, signing: Signing, title: str, done: list[dict]) -> None:
    """Embed a signed manifest in ``path`` (MP4 or JPEG), in place, through a temporary file."""
    import c2pa  # lazy: only when signing
    fmt = FORMATS[path.suffix.lower()]
    settings = c2pa.Settings()
    settings.set("builder.thumbnail.enabled", "false")               # no picture of anything in the manifest
    info = c2pa.C2paSignerInfo(getattr(c2pa.C2paSigningAlg, signing.alg), signing.chain_pem, signing.key_pem, None)
    tmp = path.with_name(f".{path.name}.signing")
    try:
        with c2pa.Context(settings) as context, c2pa.Signer.from_info(info) as signer, \
                c2pa.Builder(manifest(signing, title, done), context) as builder, \
                open(path, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, fmt, src, dst)
        os.replace(tmp, path)
    except c2pa.C2paError as exc:
        raise CadreError(path, f"could not be signed ({exc}); check the [signing] key and chain") from None
    finally:
        tmp.unlink(missing_ok=True)


# ---- reading back ----------------------------------------------------------------------------

@dataclass
class Verification:
    file: str
    state: str                   # valid | changed | unsigned | untrusted | invalid
    trusted: bool | None = None  # None: no trust anchor given
    signer: str = ""
    issuer: str = ""
    unit: str = ""
    when: str = ""
    timestamped: bool = False
    software: str = ""
    actions: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "valid"


def _state(failures: list[dict], trust_given: bool) -> tuple[str, bool | None]:
    codes = [f.get("code", "") for f in failures]
    if any("mismatch" in c or "hash" in c.lower() for c in codes):
        return "changed", None
    untrusted = any(c == "signingCredential.untrusted" for c in codes)
    other = [c for c in codes if c != "signingCredential.untrusted"]
    if other:
        return "invalid", None
    if trust_given:
        return ("untrusted", False) if untrusted else ("valid", True)
    return "valid", None


def verify(path: Path, trust: Path | None = None) -> Verification:
    """Read ``path``'s content credentials and check them (against ``trust``, a PEM CA, if given)."""
    import c2pa  # lazy: only for cadre verify
    path = Path(path)
    if not path.is_file():
        raise CadreError(path, "no such file; give a published MP4 or cover")
    config: dict = {}
    if trust is not None:
        try:
            anchors = Path(trust).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CadreError(trust, f"cannot read the trust anchor ({exc}); give the unit's CA as PEM") from None
        if "BEGIN CERTIFICATE" not in anchors:
            raise CadreError(trust, "is not a PEM certificate; give the unit's CA certificate")
        config = {"trust": {"trust_anchors": anchors}, "verify": {"verify_trust": True}}
    try:
        with c2pa.Context.from_dict(config) as context, c2pa.Reader(path, context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in text or "NotFound" in text:
            return Verification(str(path), "unsigned", problems=["no content credentials in the file"])
        if "NotSupported" in type(exc).__name__ or "NotSupported" in text:
            raise CadreError(path, "is not a file that carries content credentials; give a published MP4 or "
                                   "cover.jpg") from None
        return Verification(str(path), "changed" if "hash" in text.lower() else "invalid", problems=[text])
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = results.get("failure") or [s for s in store.get("validation_status") or []]
    state, trusted = _state(failures, trust is not None)
    sig = active.get("signature_info") or {}
    out = Verification(str(path), state, trusted, sig.get("common_name", ""), sig.get("issuer", ""),
                       manifest=active, problems=[f"{f.get('code')}: {f.get('explanation', '')}" for f in failures])
    out.when, out.timestamped = (sig["time"], True) if sig.get("time") else ("", False)
    gens = active.get("claim_generator_info") or []
    out.software = " ".join(str(g.get(k, "")) for g in gens[:1] for k in ("name", "version")).strip()
    for a in active.get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            out.actions += a.get("data", {}).get("actions", [])
        if a.get("label") == "stds.schema-org.CreativeWork":
            data = a.get("data", {})
            out.unit = ", ".join(str(x.get("name", "")) for x in data.get("author", []))
            out.when = out.when or str(data.get("dateCreated", ""))
    return out


def report_lines(v: Verification) -> list[str]:
    """``cadre verify``'s lines."""
    states = {"valid": "valid: the file has not changed since it was signed",
              "changed": "CHANGED: the file was modified after it was signed",
              "unsigned": "UNSIGNED: the file carries no content credentials",
              "untrusted": "UNTRUSTED: signed, but not by a certificate of the given CA",
              "invalid": "INVALID: the content credentials do not check out"}
    out = [f"{v.file}: {states[v.state]}"]
    if v.state == "valid":
        out.append("signer: " + ("trusted (chains to the given CA)" if v.trusted else
                                 "not checked against a CA (give --trust CA.pem)"))
    if v.signer or v.issuer:
        out.append(f"signed by: {v.signer}" + (f" ({v.issuer})" if v.issuer else ""))
    if v.unit:
        out.append(f"made by: {v.unit}")
    if v.when:
        out.append(f"when: {v.when}" + ("" if v.timestamped else " (as stated by the signer; no timestamp authority)"))
    if v.software:
        out.append(f"software: {v.software}")
    for a in v.actions:
        out.append(f"action: {a.get('action', '')}" + (f" - {a['description']}" if a.get("description") else ""))
    if v.state != "valid":
        out += [f"problem: {p}" for p in v.problems[:6]]
    return out


def sign_outputs(out_dir: Path, files: list[dict], signing: Signing, title: str, report: dict) -> dict:
    """Sign a network folder's videos (``files``: the report's outputs, sizes updated) and its
    cover; returns the ``provenance`` section of ``report.json``."""
    done = actions(report)
    signed = []
    for entry in files:
        video = Path(out_dir) / entry["file"]
        sign_file(video, signing, title, done)
        entry["size_bytes"] = video.stat().st_size
        signed.append(video.name)
    cover = Path(out_dir) / "cover.jpg"
    if cover.is_file():
        sign_file(cover, signing, title, done)
        signed.append(cover.name)
    return {"signed": signed, "unit": signing.unit, "alg": signing.alg,
            "actions": [a["action"] + (f": {a['description']}" if a.get("description") else "") for a in done]}
