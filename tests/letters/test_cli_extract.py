"""`foilog extract`: many letters to NDJSON drafts, ready for `foilog import` once checked."""

import json
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()
SEEDS = resources.files("app.letters") / "seeds"


def test_extract_then_import(tmp_path: Path, client: TestClient) -> None:
    herts = tmp_path / "herts.txt"
    herts.write_bytes((SEEDS / "hertfordshire-FOI2018-02892.txt").read_bytes())
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    output = tmp_path / "drafts.ndjson"
    result = runner.invoke(
        cli,
        ["extract", str(herts), str(broken), "--force", "hertfordshire", "--output", str(output)],
    )
    assert result.exit_code == 1
    assert "broken.pdf: not read" in result.output
    assert "herts.txt: title: none printed" in result.output
    [line] = output.read_text().splitlines()
    draft = json.loads(line)
    assert (draft["reference"], draft["received_on"]) == ("FOI2018/02892", "2018-05-29")

    imported = runner.invoke(cli, ["import", str(output)])
    assert imported.exit_code == 0, imported.output
    assert "1 created" in imported.output
    entry = client.get("/v1/forces/hertfordshire/references/FOI2018/02892").json()
    assert entry["outcome"] == "neither_confirm_nor_deny"
    assert entry["responded_within_deadline"] is True


def test_extract_names_an_unknown_force(tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Our ref: 1/23\n")
    result = runner.invoke(cli, ["extract", str(letter), "--force", "atlantis"])
    assert result.exit_code == 1
    assert "no force with id 'atlantis'" in result.output
