"""`portal init` creates the internal CA and TSA once; their passphrase comes from the settings."""

from __future__ import annotations

import stat

from click.testing import CliRunner


def test_portal_init_creates_the_ca_and_tsa_once(tmp_path, monkeypatch):
    from app.cli import main

    data = tmp_path / "data"
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data))
    monkeypatch.delenv("PORTAL_PKI_PASSPHRASE", raising=False)
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    runner = CliRunner()

    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "Autoridad de certificación" in first.output
    passphrase = data / "pki_passphrase"
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "pki").stat().st_mode) == 0o700
    ca = (data / "pki" / "ca-cert.pem").read_bytes()
    assert b"ENCRYPTED" in (data / "pki" / "ca-key.pem").read_bytes()

    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0, again.output
    assert (data / "pki" / "ca-cert.pem").read_bytes() == ca  # safe to run again
    assert passphrase.read_text() and passphrase.read_text() == passphrase.read_text().strip()


def test_the_passphrase_setting_wins_over_the_generated_file(tmp_path, monkeypatch):
    from app.config import load_config, pki_passphrase

    monkeypatch.setenv("PORTAL_PKI_PASSPHRASE", "desde el entorno")
    config = load_config({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"})
    assert pki_passphrase(config) == b"desde el entorno"
    assert not (tmp_path / "pki_passphrase").exists()
    assert config["PKI_DIR"] == str(tmp_path / "pki")

    monkeypatch.setenv("PORTAL_TSA_URL", "https://tsa.example/rfc3161")
    monkeypatch.setenv("PORTAL_SIGNING_ALLOW_FETCHING", "true")
    config = load_config({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"})
    assert config["TSA_URL"] == "https://tsa.example/rfc3161"
    assert config["SIGNING_ALLOW_FETCHING"] is True
