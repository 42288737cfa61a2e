"""Content credentials on a real render: a throwaway CA and ES256 key made here, the episode signed
with provenance = "required", read back with c2pa.Reader, one byte of the video data flipped and
`cadre verify` saying so, and the manifest checked for what it must never hold."""
from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path

import c2pa
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipeline import approve, status
from pipeline.cli import main
from pipeline.core.errors import CadreError
from pipeline.orchestrator import RenderOptions, prepare, render_episode
from pipeline.post.provenance import preflight, verify
from pipeline.source.config import load_settings
from tests.test_review_fixtures import make_episode

UNIT = "Brigade de recherches de Rennes"
REVIEWER = "Cne Martin-Lefebvre"


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def make_keys(folder: Path, days: int = 30, ca_name: str = "Cadre test CA") -> dict[str, Path]:
    """A CA and an ES256 signing key with its certificate (valid ``days`` from yesterday; negative: expired)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name, "Cadre tests")).issuer_name(_name(ca_name, "Cadre tests"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=2)).not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    start = now - dt.timedelta(days=1) if days > 0 else now - dt.timedelta(days=1 - days + 1)
    leaf = (x509.CertificateBuilder().subject_name(_name("Cellule communication", UNIT)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)   # noqa: E731
    paths = {"ca": folder / "ca.pem", "chain": folder / "chain.pem", "key": folder / "unit.key"}
    paths["ca"].write_bytes(pem(ca))
    paths["chain"].write_bytes(pem(leaf) + pem(ca))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def signing_campaign(root: Path, keys: dict[str, Path], mode: str = "required") -> Path:
    folder = make_episode(root, toml='bleep = ["Lilas"]\n')   # 2 s: TikTok refused (3 s minimum), YouTube published
    (root / "campaign.toml").write_text(
        f'provenance = "{mode}"\n[signing]\nunit = "{UNIT}"\nkey = "{keys["key"]}"\ncerts = "{keys["chain"]}"\n', "utf-8")
    return folder


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("provenance")
    keys = make_keys(tmp / "keys")
    folder = signing_campaign(tmp / "campaign", keys)
    approve(folder, REVIEWER)
    result = render_episode(folder, RenderOptions(require_approval=True))
    out = Path(result["out_dir"]) / "youtube-shorts"
    return {"tmp": tmp, "keys": keys, "folder": folder, "out": out, "video": out / f"{folder.name}.mp4"}


def _store(path: Path) -> dict:
    with c2pa.Reader(path) as reader:
        return json.loads(reader.json())


def test_the_render_is_signed_by_the_unit_with_what_was_done(signed):
    store = _store(signed["video"])
    active = store["manifests"][store["active_manifest"]]
    assert active["claim_generator_info"][0]["name"] == "Cadre"
    assert active["signature_info"]["issuer"] == UNIT and active["signature_info"]["alg"].upper() == "ES256"
    assertions = {a["label"]: a["data"] for a in active["assertions"]}
    assert assertions["stds.schema-org.CreativeWork"]["author"] == [{"@type": "Organization", "name": UNIT}]
    done = [(a["action"], a.get("description", "")) for a in assertions["c2pa.actions.v2"]["actions"]]
    names = [a for a, _ in done]
    assert names[0] == "c2pa.created" and "c2pa.transcoded" in names
    assert any(a == "c2pa.filtered" and "masked by mosaic" in d and "face" in d for a, d in done), done
    assert ("c2pa.edited", "captions burned in") in done
    assert any("bleeped at 1 place" in d for _, d in done), done
    assert all(a.get("softwareAgent", {}).get("name") == "Cadre" for a in assertions["c2pa.actions.v2"]["actions"])
    report = json.loads((signed["out"] / "report.json").read_text("utf-8"))
    assert report["provenance"]["signed"] == [signed["video"].name, "cover.jpg"]
    assert report["outputs"][0]["size_bytes"] == signed["video"].stat().st_size


def test_verify_valid_then_changed_after_one_byte(signed, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", str(signed["video"]), "--trust", str(signed["keys"]["ca"])])
    assert ok.exit_code == 0, ok.output
    assert "valid: the file has not changed" in ok.output and "trusted (chains to the given CA)" in ok.output
    assert f"made by: {UNIT}" in ok.output and "action: c2pa.filtered - masked by mosaic" in ok.output
    assert verify(signed["out"] / "cover.jpg", signed["keys"]["ca"]).state == "valid"
    # one byte of the video data flipped
    data = bytearray(signed["video"].read_bytes())
    at = data.index(b"mdat") - 4
    size = struct.unpack(">I", data[at:at + 4])[0]
    data[at + 8 + size // 2] ^= 0x01
    changed = tmp_path / "changed.mp4"
    changed.write_bytes(bytes(data))
    bad = runner.invoke(main, ["verify", str(changed), "--trust", str(signed["keys"]["ca"])])
    assert bad.exit_code == 1 and "CHANGED" in bad.output, bad.output
    # an unsigned file, and a signer from another CA
    unsigned = runner.invoke(main, ["verify", str(signed["folder"] / "1.mp4")])
    assert unsigned.exit_code == 1 and "UNSIGNED" in unsigned.output
    other = make_keys(tmp_path / "other", ca_name="Another CA")
    foreign = runner.invoke(main, ["verify", str(signed["video"]), "--trust", str(other["ca"])])
    assert foreign.exit_code == 1 and "UNTRUSTED" in foreign.output


def test_the_manifest_holds_nothing_it_must_not(signed):
    for path in (signed["video"], signed["out"] / "cover.jpg"):
        with c2pa.Reader(path) as reader:
            text = reader.json() + reader.detailed_json()
        store = _store(path)
        for manifest in store["manifests"].values():
            assert not manifest.get("ingredients") and "thumbnail" not in manifest
            labels = [a["label"] for a in manifest["assertions"]]
            assert not [l for l in labels if "thumbnail" in l or "exif" in l.lower() or "ingredient" in l], labels
        low = text.lower()
        for forbidden in (str(signed["tmp"]), str(signed["folder"]), "/tmp/", REVIEWER, "martin", "lilas", "dupond",
                          "gpslatitude", "exif:gps", "1.mp4", "begin private key"):
            assert forbidden.lower() not in low, forbidden


def test_the_key_is_never_copied_into_the_exports(signed):
    secret = signed["keys"]["key"].read_text().splitlines()[1]          # a line of the key's body
    for path in signed["out"].parent.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data and secret.encode() not in data, path


def test_required_refuses_an_expired_or_missing_key_before_any_work(tmp_path):
    keys = make_keys(tmp_path / "keys", days=-1)
    folder = signing_campaign(tmp_path / "campaign", keys)
    with pytest.raises(CadreError, match=r'provenance = "required": the signing certificate expired on') as err:
        render_episode(folder, RenderOptions())
    assert "\n" not in str(err.value) and not (tmp_path / "campaign" / "exports").exists()
    # reviewing, status and sign-off need no key: only publishing does
    prepare(folder, RenderOptions())
    assert {r.state for r in status(folder).rows} == {"never rendered"}
    keys["key"].unlink()
    result = CliRunner().invoke(main, ["render", str(folder)])
    assert result.exit_code == 1 and not (tmp_path / "campaign" / "exports").exists()
    assert result.output.strip().splitlines() == [f"cadre: error: {keys['key']}: provenance = \"required\": the signing "
                                                  "key file is missing; give the unit's key file in [signing]"]
    # a batch refuses the episode while planning it: no analysis, no export
    batch = CliRunner().invoke(main, ["batch", str(tmp_path / "campaign")])
    assert batch.exit_code == 3 and "the signing key file is missing" in batch.output, batch.output
    assert not list((tmp_path / "campaign" / "exports").glob(f"{folder.name}/*/*.mp4"))


def test_sign_without_a_key_warns_and_publishes_unsigned(tmp_path):
    keys = make_keys(tmp_path / "keys")
    keys["chain"].unlink()
    folder = signing_campaign(tmp_path / "campaign", keys, mode="sign")
    signing, warning = preflight(load_settings(folder), folder)
    assert not signing.ready and "publishing them unsigned" in warning and "chain.pem" in warning
    prepare(folder, RenderOptions())                                    # no refusal


def test_an_episode_cannot_drop_a_required_signature(tmp_path):
    folder = signing_campaign(tmp_path / "campaign", make_keys(tmp_path / "keys"))
    (folder / "episode.toml").write_text((folder / "episode.toml").read_text("utf-8") + 'provenance = "off"\n', "utf-8")
    with pytest.raises(CadreError, match="cannot turn it off"):
        load_settings(folder)


def test_verify_refuses_what_cannot_carry_credentials_in_one_line(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("pas une vidéo", "utf-8")
    for args in (["verify", str(text)], ["verify", str(tmp_path / "missing.mp4")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
        assert result.output.startswith("cadre: error: ")


def test_key_and_chain_from_the_environment(tmp_path, monkeypatch):
    keys = make_keys(tmp_path / "keys")
    folder = make_episode(tmp_path / "campaign")
    (tmp_path / "campaign" / "campaign.toml").write_text('provenance = "required"\n', "utf-8")
    with pytest.raises(CadreError, match="no unit name"):
        preflight(load_settings(folder), folder)
    monkeypatch.setenv("CADRE_SIGNING_UNIT", UNIT)
    monkeypatch.setenv("CADRE_SIGNING_KEY", str(keys["key"]))
    monkeypatch.setenv("CADRE_SIGNING_CERTS", str(keys["chain"]))
    signing, warning = preflight(load_settings(folder), folder)
    assert signing.ready and warning is None and signing.alg == "ES256" and signing.unit == UNIT
    other = make_keys(tmp_path / "other")                     # a chain that is not the key's
    monkeypatch.setenv("CADRE_SIGNING_CERTS", str(other["chain"]))
    with pytest.raises(CadreError, match="the first certificate is not the signing key's"):
        preflight(load_settings(folder), folder)
