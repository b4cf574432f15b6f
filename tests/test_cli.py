import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from factories import auth, make_key, published
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import new_session
from app.demo import ROUND_ROBINS, demo_entries
from app.imports.service import MAX_LINE_BYTES
from app.models import Attachment, FoiResponse

runner = CliRunner()


def test_keys_create_prints_the_key_last_and_list_never_shows_it(
    client: TestClient, database_url: str
) -> None:
    created = runner.invoke(
        cli,
        ["keys", "create", "--role", "editor", "--force", "hertfordshire", "--name", "herts-cms"],
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert (
        client.get("/v1/requests", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )

    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0
    assert "herts-cms" in listed.output
    assert "hertfordshire" in listed.output
    assert secret not in listed.output

    revoked = runner.invoke(cli, ["keys", "revoke", "herts-cms"])
    assert revoked.exit_code == 0
    assert (
        client.get("/v1/requests", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_revoking_an_unknown_key_fails_cleanly(database_url: str) -> None:
    result = runner.invoke(cli, ["keys", "revoke", "nobody"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_demo_loads_once_with_if_empty(client: TestClient, database_url: str) -> None:
    first = runner.invoke(cli, ["demo", "--count", "20", "--if-empty"])
    assert first.exit_code == 0, first.output
    # 20 generated, the seed letter that prints its dates, and the round-robins' copies.
    assert f"{21 + sum(ROUND_ROBINS)} created" in first.output
    again = runner.invoke(cli, ["demo", "--count", "20", "--if-empty"])
    assert "already has entries" in again.output
    herts = client.get("/v1/forces/hertfordshire/references/FOI2018%2F02892")
    assert herts.status_code == 200
    assert herts.json()["due_on"] == "2018-06-26"


def test_import_a_file_and_report_a_bad_line(tmp_path: Path, database_url: str) -> None:
    good = tmp_path / "good.ndjson"
    good.write_text("".join(json.dumps(d) + "\n" for d in demo_entries(5)))
    result = runner.invoke(cli, ["import", str(good)])
    assert result.exit_code == 0, result.output
    assert "6 created" in result.output

    bad = tmp_path / "bad.ndjson"
    lines = [json.dumps(d) for d in demo_entries(2)]
    lines[1] = lines[1].replace('"received_on": "', '"received_on": "x')
    bad.write_text("\n".join(lines) + "\n")
    failed = runner.invoke(cli, ["import", str(bad)])
    assert failed.exit_code == 1
    assert "line" in failed.output.lower()


def test_attachments_reread_keeps_todays_text_and_names_public_files_naming_the_requester(
    client: TestClient, session: Session
) -> None:
    # Text stored by an older reader (here: none at all) is read again as uploads are now;
    # a public file whose new text names the requester is listed, and the command fails.
    key = make_key(session)
    published(client, key)
    response_id = session.exec(select(FoiResponse.id)).one()
    session.rollback()
    files = {
        "plain.txt": b"The review upheld the response.",
        "named.txt": b"Covering note for Jane Marlow.",
    }
    ids = []
    for name, data in files.items():
        uploaded = client.post(
            f"/v1/responses/{response_id}/attachments",
            params={"acknowledge_privacy_warning": "true"},
            files={"file": (name, data, "text/plain")},
            headers=auth(key),
        )
        assert uploaded.status_code == 201, uploaded.text
        ids.append(uploaded.json()["id"])
    session.execute(update(Attachment).values(text=""))
    session.commit()
    result = runner.invoke(cli, ["attachments", "reread"])
    assert result.exit_code == 1, result.output
    assert "2 attachments read again, 2 with new text" in result.output
    assert f"naming their requester: {ids[1]}" in result.output
    with new_session() as reader:
        texts = dict(reader.exec(select(Attachment.id, Attachment.text)).all())
    assert texts == {ids[0]: files["plain.txt"].decode(), ids[1]: files["named.txt"].decode()}
    again = runner.invoke(cli, ["attachments", "reread"])
    assert (again.exit_code, "0 with new text" in again.output) == (0, True)


def test_import_reads_standard_input_and_pipes(tmp_path: Path, database_url: str) -> None:
    # A pipe is read once; an import reads its lines twice. Read twice from the pipe itself,
    # the second reading found nothing and the import said "0 created".
    lines = "".join(json.dumps(d) + "\n" for d in demo_entries(5)).encode()
    piped = runner.invoke(cli, ["import", "-"], input=lines)
    assert piped.exit_code == 0, piped.output
    assert "6 created, 0 updated, 0 unchanged" in piped.output
    fifo = tmp_path / "entries.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(lines,))
    writer.start()
    again = runner.invoke(cli, ["import", str(fifo)])
    writer.join()
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 6 unchanged" in again.output


def test_a_key_is_revoked_by_its_id_and_no_name_reads_as_one(
    client: TestClient, database_url: str
) -> None:
    digits = runner.invoke(cli, ["keys", "create", "--role", "admin", "--name", "2"])
    assert digits.exit_code != 0
    assert "not all digits" in digits.output
    tabbed = runner.invoke(cli, ["keys", "create", "--role", "admin", "--name", "a\tb"])
    assert tabbed.exit_code != 0
    created = runner.invoke(cli, ["keys", "create", "--role", "admin", "--name", "ops"])
    key_id = created.output.split("(id ")[1].split(")")[0]
    secret = created.output.strip().splitlines()[-1]
    revoked = runner.invoke(cli, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked key 'ops' (id {key_id})" in revoked.output
    assert client.get("/v1/requests", headers=auth(secret)).status_code == 401
    assert runner.invoke(cli, ["keys", "revoke", "99999"]).exit_code != 0


@pytest.mark.parametrize(
    "command", [["keys", "list"], ["import", "-"], ["export"], ["round-robins", "backfill"]]
)
def test_a_command_on_a_database_not_migrated_says_so(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "FOILOG_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *command],
        env=env,
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert b"run `foilog db upgrade` first" in done.stderr
    assert b"Traceback" not in done.stdout + done.stderr


def test_a_setting_that_does_not_parse_is_named_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "FOILOG_CACHE_MAX_AGE": "abc"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "list"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"error: FOILOG_CACHE_MAX_AGE: Input should be a valid integer" in done.stderr
    assert b"Traceback" not in done.stderr


def test_an_import_line_longer_than_the_api_takes_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    # Read whole before, as the file's own lines: a 200 MB line held 540 MB of memory.
    huge = tmp_path / "huge.ndjson"
    huge.write_bytes(b"x" * (MAX_LINE_BYTES + 1) + b"\n")
    result = runner.invoke(cli, ["import", str(huge)])
    assert result.exit_code == 1
    assert f"line 1 is longer than {MAX_LINE_BYTES} bytes" in result.output
