"""Round-robin requests (SPEC §12): grouping on publish, import, announce and withdrawal, the
entry document's `round_robin`, /v1/round-robins and the `round_robin` log filter."""

import hashlib
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import combinations
from typing import Any

import orjson
import pytest
from factories import auth, change_feed, make_key, stored_document
from fastapi.testclient import TestClient
from log_factories import Spec, publish
from round_robin_corpus import corpus
from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select
from test_read_path import write_lock_held
from typer.testing import CliRunner

from app import worker
from app.changes import service as changes
from app.cli import cli
from app.config import get_settings
from app.db import new_session, utcnow
from app.errors import WriteBusy
from app.imports import service as imports
from app.keys.schemas import Actor
from app.models import DisclosureEntry, RoundRobinBand, RoundRobinEntry
from app.publishing import service as publishing
from app.round_robins import service as round_robins
from app.round_robins import similarity

QUESTIONS = [
    "How many times has {force} deployed live facial recognition in each of the last three "
    "financial years?",
    "How much has {force} spent on facial recognition software, including licences and "
    "hardware, since 1 January 2020?",
    "Please provide a copy of any equality impact assessment covering the use of live facial "
    "recognition.",
]


def copy(force_name: str, salutation: str = "Dear Sir/Madam,", sign_off: str = "") -> str:
    questions = "\n".join(f"{n}. {q.format(force=force_name)}" for n, q in enumerate(QUESTIONS, 1))
    return f"{salutation}\nUnder the Freedom of Information Act 2000:\n{questions}\n{sign_off}"


def sent(session: Session, force: str, name: str, **changes: Any) -> DisclosureEntry:
    text = copy(name, **changes)
    return publish(session, Spec(force=force, text=text, questions=[], topics=["biometrics"]))


def group_of(entry_id: int | None) -> dict[str, Any] | None:
    assert entry_id is not None
    found: dict[str, Any] | None = stored_document(entry_id)["round_robin"]
    return found


def test_a_text_keeps_the_words_and_signature_its_stored_band_keys_were_made_from() -> None:
    # Band keys and signatures are stored: a change to how a text is reduced or hashed would
    # leave every stored entry unfindable by the copies published after it.
    text = (
        "Dear FOI team at Kent Police,\nUnder the Act, (1) how many officers of the Met and "
        "Hertfordshire Constabulary, or Police Scotland, used tasers in 2023? Q2: iv. What did "
        "north wales police spend; 3b) café-bar costs £1,200?\nKind regards,\nSam"
    )
    words = "under the act how many officers of force and force or force used tasers in 2023"
    words += " what did force spend café bar costs 1 200"
    assert similarity.words(text) == words.split()
    signature = similarity.signatures([similarity.shingles(text)])[0]
    assert signature is not None
    assert hashlib.sha256(signature).hexdigest() == (
        "041506850817da84b6e12d585bf5503956dad6b28e570c22e4297d96779d8981"
    )
    assert similarity.band_keys(signature)[:2] == [-7673862989839424488, -7351546939992021152]


def test_signatures_are_datasketchs_affine32_minhash_of_the_shingles() -> None:
    # Signatures stored before foilog computed them itself came from datasketch 2's MinHash
    # ("affine32", seed 1, the first 32 bits of SHA-1): every text, in blocks of any size, must
    # still get the same one. A text too short to link gets none.
    from datasketch import MinHash

    texts = [copy.text for copy in corpus(seed=3, round_robins=20, distractors=300)]
    texts.append("please see the attached")
    count = similarity.SIGNATURE_BLOCK + 7
    shingled = [similarity.shingles(text) for text in texts]
    assert len(shingled) > count
    assert not shingled[-1]
    template = MinHash(num_perm=similarity.VALUES, seed=similarity.SEED, scheme="affine32")
    for shingles, signature in zip(shingled, similarity.signatures(shingled), strict=True):
        if not shingles:
            assert signature is None
            continue
        expected = MinHash(
            num_perm=similarity.VALUES,
            seed=similarity.SEED,
            permutations=template.permutations,
            scheme="affine32",
            hashfunc=lambda data: int.from_bytes(hashlib.sha1(data).digest()[:4], "little"),
        )
        expected.update_batch([s.encode() for s in shingles])
        assert signature == expected.hashvalues.astype("<u4").tobytes()
    assert similarity.signatures(shingled[count:]) == similarity.signatures(shingled)[count:]


def test_an_entry_is_verified_against_the_holders_sharing_most_of_its_band_keys(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At most MAX_CANDIDATES holders of an entry's band keys are verified: those sharing the
    # most keys, of equals the newest, never the entry itself nor one without a signature.
    # Texts too short to link have no band keys: these are written by hand.
    ids = [publish(session, Spec(text="See attached.", questions=[])).id or 0 for _ in range(6)]
    entry, three, two, one_older, one_newer, unsigned = ids  # oldest first
    keys = {entry: [1, 2, 3], three: [1, 2, 3], two: [2, 3], one_older: [3], one_newer: [1]}
    keys[unsigned] = [1]
    session.execute(
        insert(RoundRobinBand), [{"band": k, "entry_id": e} for e, ks in keys.items() for k in ks]
    )
    for holder in ids:
        signature = None if holder == unsigned else signed(holder)[1]
        session.execute(
            update(RoundRobinEntry)
            .where(col(RoundRobinEntry.entry_id) == holder)
            .values(signature=signature)
        )
    linker = round_robins._Linker(session, utcnow())
    monkeypatch.setattr(round_robins, "MAX_CANDIDATES", 4)
    # The first four for `entry`: three, two, unsigned, one_newer; unsigned is not verified.
    assert linker._sharing([entry, two]) == {
        entry: [signed(three), signed(two), signed(one_newer)],
        two: [signed(three), signed(entry), signed(one_older)],
    }
    monkeypatch.setattr(round_robins, "MAX_CANDIDATES", 1)
    assert linker._sharing([entry]) == {entry: [signed(three)]}


def signed(entry_id: int) -> tuple[int, bytes]:
    """An entry with a signature made up for it (its id's bytes)."""
    return entry_id, entry_id.to_bytes(256, "little")


def test_copies_to_other_forces_form_one_group(session: Session) -> None:
    kent = sent(session, "kent", "Kent Police", sign_off="Kind regards,\nJane Marlow")
    assert group_of(kent.id) is None
    herts = sent(session, "hertfordshire", "Hertfordshire Constabulary", salutation="Hello,")
    essex = sent(session, "essex", "Essex Police", sign_off="Yours faithfully, Sam")
    ids = [kent.id, herts.id, essex.id]
    groups = [group_of(i) for i in ids]
    assert groups[0] == groups[1] == groups[2]
    assert groups[0] is not None
    assert groups[0]["size"] == 3
    # Kent's document changed twice after it was published: each an `updated` change.
    assert change_feed().count((kent.id or 0, "updated")) == 2
    assert (herts.id, "updated") in change_feed()


def test_one_forces_entries_and_other_questions_are_not_grouped(session: Session) -> None:
    first = sent(session, "kent", "Kent Police")
    again = sent(session, "kent", "Kent Police", salutation="Hello,")
    other = publish(
        session,
        Spec(
            force="essex",
            text="Under the Freedom of Information Act 2000: how many police dogs does Essex "
            "Police own, and how much did their kennels, food and veterinary care cost in each "
            "of the last three financial years?",
            questions=[],
        ),
    )
    assert [group_of(e.id) for e in (first, again, other)] == [None, None, None]


def test_a_withdrawal_leaves_its_group_and_a_group_of_one_is_none(
    session: Session, client: TestClient
) -> None:
    kent = sent(session, "kent", "Kent Police")
    herts = sent(session, "hertfordshire", "Hertfordshire Constabulary")
    essex = sent(session, "essex", "Essex Police")
    group = group_of(kent.id)
    assert group is not None
    actor = Actor.system("test")
    publishing.withdraw(session, essex.id or 0, reason="error", actor=actor)
    assert group_of(kent.id) == {"id": group["id"], "size": 2}
    detail = client.get(f"/v1/round-robins/{group['id']}").json()
    assert [e["id"] for e in detail["entries"]] == [herts.id, kent.id]
    publishing.withdraw(session, herts.id or 0, reason="error", actor=actor)
    assert group_of(kent.id) is None
    assert client.get(f"/v1/round-robins/{group['id']}").status_code == 404


CUSTODY = [
    "How many custody suites does {f} operate and how many cells does each one hold?",
    "How many detainees were held for longer than twenty four hours in each of the "
    "last three calendar years?",
    "What is the annual budget for healthcare provided to detainees held in custody?",
]


def custody(parts: list[int], name: str) -> str:
    return " ".join(CUSTODY[i].format(f=name) for i in parts)


def two_groups(session: Session) -> list[DisclosureEntry]:
    """Kent and Essex ask the first two questions, Dorset and Surrey the last two: two groups,
    which an entry asking all three bridges."""
    pairs = [("kent", "Kent Police", [0, 1]), ("essex", "Essex Police", [0, 1])]
    pairs += [("dorset", "Dorset Police", [1, 2]), ("surrey", "Surrey Police", [1, 2])]
    return [publish(session, Spec(force=f, text=custody(p, n), questions=[])) for f, n, p in pairs]


def test_an_entry_that_bridges_two_groups_merges_them(session: Session) -> None:
    made = two_groups(session)
    first, second = group_of(made[0].id), group_of(made[2].id)
    assert first is not None
    assert second is not None
    assert first != second
    bridge = publish(
        session, Spec(force="gwent", text=custody([0, 1, 2], "Gwent Police"), questions=[])
    )
    merged = group_of(bridge.id)
    assert merged == {"id": first["id"], "size": 5}
    assert all(group_of(e.id) == merged for e in made)


def test_a_scheduled_entry_joins_when_it_falls_due(session: Session) -> None:
    kent = sent(session, "kent", "Kent Police")
    later = publish(
        session,
        Spec(force="essex", text=copy("Essex Police"), questions=[]),
        published_at=utcnow() + timedelta(hours=1),
    )
    assert group_of(kent.id) is None
    assert group_of(later.id) is None
    session.get_one(DisclosureEntry, later.id).published_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with new_session(write=True) as write:
        changes.announce(write, changes.due_announcements(write))
    assert group_of(kent.id) == group_of(later.id) == {"id": group_of(kent.id)["id"], "size": 2}  # type: ignore[index]


def test_many_entries_falling_due_at_once_are_linked_a_batch_a_transaction(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    kent = sent(session, "kent", "Kent Police")
    later = [
        publish(
            session,
            Spec(force=f, text=copy(n), questions=[]),
            published_at=utcnow() + timedelta(hours=1),
        )
        for f, n in [("essex", "Essex Police"), ("dorset", "Dorset"), ("surrey", "Surrey")]
    ]
    for entry in later:
        session.get_one(DisclosureEntry, entry.id).published_at = utcnow() - timedelta(seconds=1)
    session.commit()
    # Each transaction locks the band keys of the entries it links: bounded, not the whole lot.
    monkeypatch.setattr(round_robins, "BATCH", 2)
    batches: list[int] = []
    group_announced = round_robins.group_announced

    def counted(own: Session, entry_ids: list[int], **options: Any) -> list[int]:
        batches.append(len(entry_ids))
        return group_announced(own, entry_ids, **options)

    monkeypatch.setattr(round_robins, "group_announced", counted)
    with new_session(write=True) as write:
        assert changes.announce(write, changes.due_announcements(write)) == 3
    assert batches == [2, 1]
    assert all(group_of(e.id) == {"id": group_of(kent.id)["id"], "size": 4} for e in later)  # type: ignore[index]


def test_the_api_lists_groups_largest_first_and_filters_the_log(
    session: Session, client: TestClient
) -> None:
    three = [
        sent(session, f, n) for f, n in [("kent", "Kent"), ("essex", "Essex"), ("dorset", "Dorset")]
    ]
    other = "How many police horses does {f} keep, and what did stabling and feed cost in 2023?"
    two = [
        publish(session, Spec(force=f, text=other.format(f=n), questions=[], topics=["animals"]))
        for f, n in [("kent", "Kent Police"), ("gwent", "Gwent Police")]
    ]
    big, small = group_of(three[0].id)["id"], group_of(two[0].id)["id"]  # type: ignore[index]
    page = client.get("/v1/round-robins", params={"limit": 1, "count": "true"})
    assert page.status_code == 200, page.text
    assert page.headers["ETag"]
    assert page.headers["Cache-Control"].startswith("public")
    body = page.json()
    assert body["total"] == 2
    assert body["items"] == [
        {
            "id": big,
            "size": 3,
            "title": "Police vehicle fleet",
            "forces": ["dorset", "essex", "kent"],
        }
    ]
    rest = client.get("/v1/round-robins", params={"limit": 1, "cursor": body["next_cursor"]})
    assert [g["id"] for g in rest.json()["items"]] == [small]
    assert rest.json()["next_cursor"] is None
    assert [g["id"] for g in client.get("/v1/round-robins?force=gwent").json()["items"]] == [small]
    assert [g["id"] for g in client.get("/v1/round-robins?topic=animals").json()["items"]] == [
        small
    ]
    assert [g["id"] for g in client.get("/v1/round-robins?q=horses").json()["items"]] == [small]
    unknown = client.get("/v1/round-robins?force=atlantis&topic=nothing")
    assert unknown.status_code == 400
    assert "atlantis" in unknown.json()["detail"]
    assert client.get("/v1/round-robins?cursor=nonsense").status_code == 400
    tag = page.headers["ETag"]
    again = client.get(
        "/v1/round-robins", params={"limit": 1, "count": "true"}, headers={"If-None-Match": tag}
    )
    assert again.status_code == 304

    detail = client.get(f"/v1/round-robins/{big}")
    assert detail.status_code == 200
    assert detail.headers["ETag"]
    group = detail.json()
    assert group["size"] == 3
    assert group["by_outcome"] == {"disclosed_in_full": 3}
    assert [e["force"] for e in group["entries"]] == ["dorset", "essex", "kent"]
    assert set(group["entries"][0]) == {
        "id",
        "force",
        "reference",
        "title",
        "received_on",
        "responded_on",
        "outcome",
        "exemptions",
    }
    assert "Marlow" not in detail.text
    # One address a group: `01` or `+1` is not the group `1` again.
    for missing in ("999999", "abc", "0", f"0{small}", f"+{small}", f"{small}.0"):
        assert client.get(f"/v1/round-robins/{missing}").status_code == 404

    log = client.get("/v1/disclosure-log", params={"round_robin": small}).json()
    assert sorted(e["id"] for e in log["items"]) == sorted(e.id or 0 for e in two)
    assert all(e["round_robin"] == {"id": small, "size": 2} for e in log["items"])
    stats = client.get("/v1/stats", params={"round_robin": big}).json()
    assert stats["total"] == 3
    bad = client.get("/v1/disclosure-log", params={"round_robin": ["999999", small]})
    assert bad.status_code == 400
    assert "999999" in bad.json()["detail"]


def _ndjson(copies: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(c) for c in copies)


def _line(number: int, force: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "force": force,
        "reference": f"RR/{number}",
        "title": f"Request {number}",
        "received_on": "2024-01-10",
        "request": {"text": text, "questions": []},
        "responses": [
            {
                "kind": "initial",
                "responded_on": "2024-02-01",
                "outcome": "not_held",
                "text": "None.",
            }
        ],
        **extra,
    }


def _import(client: TestClient, key: str, lines: list[dict[str, Any]]) -> None:
    response = client.post(
        "/v1/import",
        content=_ndjson(lines),
        headers={**auth(key), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_an_import_groups_its_entries_and_ignores_the_field(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    if large:
        monkeypatch.setattr(imports, "LARGE", 1)  # signed by a process of its own
    key = make_key(session)
    bogus = {"id": "77", "size": 40}
    lines = [
        _line(1, "kent", copy("Kent Police"), round_robin=bogus),
        _line(2, "essex", copy("Essex Police", salutation="Hello,")),
        _line(3, "kent", copy("Kent Police", salutation="Hi,")),
    ]
    _import(client, key, lines)
    log = client.get("/v1/disclosure-log").json()["items"]
    groups = {e["reference"]: e["round_robin"] for e in log}
    assert groups["RR/1"] is not None
    assert groups["RR/1"]["size"] == 2
    assert groups["RR/1"] == groups["RR/2"]
    assert groups["RR/3"] is None
    # A later import of a copy joins the group, and the members' documents say so.
    _import(client, key, [_line(4, "dorset", copy("Dorset Police"))])
    first = next(e["id"] for e in log if e["reference"] == "RR/1")
    assert group_of(first) == {"id": groups["RR/1"]["id"], "size": 3}


def _kill_helpers() -> None:
    helpers = multiprocessing.active_children()
    assert helpers
    for helper in helpers:
        os.kill(helper.pid or 0, signal.SIGKILL)
        helper.join()


def test_a_large_import_signs_in_another_process_as_in_its_own() -> None:
    texts = [copy("Kent Police"), copy("Essex Police", salutation="Hello,"), "too short"]
    with imports._Signer(parallel=True) as signer:
        signed = signer.submit(texts)()
        # A helper killed between batches: the import signs the rest itself.
        _kill_helpers()
        assert signer.submit(texts[:1])() == signed[:1]
        assert signer.submit(texts[1:])() == signed[1:]
    assert signed == round_robins.sign(texts)
    many = texts * 300
    with imports._Signer(parallel=True) as signer:
        signer.submit(texts)()
        # Killed while signing a batch: that batch too.
        pending = signer.submit(many)
        _kill_helpers()
        assert pending() == round_robins.sign(many)


# An import's process that starts its signing helper on a batch larger than a pipe holds
# (3,000 signatures), prints the helper's pid and is killed (SIGKILL) before it collects them.
_KILLED_MID_BATCH = """
import multiprocessing, os, signal
from app.imports.service import _Signer
signer = _Signer(parallel=True)
signer.submit([f"Dear requester, your request {n} about " + "police " * 80 for n in range(3000)])
print(multiprocessing.active_children()[0].pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_signing_helper_ends_with_the_import_that_started_it() -> None:
    """A worker killed mid-import left its helper waiting for ever to send a batch's
    signatures into a pipe whose reading end the helper itself holds: 90-120 MB for good."""
    # Not run(): the helper inherits the process's stdout, so its end is not the process's.
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_MID_BATCH], stdout=subprocess.PIPE, text=True
    ) as started:
        assert started.stdout is not None
        helper = int(started.stdout.readline())
        assert started.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while _running(helper) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _running(helper):
        os.kill(helper, signal.SIGKILL)
        pytest.fail(f"the helper {helper} outlived the import's process by 30 s")


def _pairs(groups: dict[int, str]) -> set[frozenset[int]]:
    return {frozenset((a, b)) for a, b in combinations(sorted(groups), 2) if groups[a] == groups[b]}


def test_precision_and_recall_on_a_labelled_set(session: Session, client: TestClient) -> None:
    """Round-robins of 5-40 forces with small variations and same-topic distractors, imported
    in batches: pairs of entries grouped together against pairs that are one request."""
    key = make_key(session)
    copies = corpus(seed=14, round_robins=20, distractors=80)
    lines = [_line(n, c.force, c.text) for n, c in enumerate(copies)]
    for start in range(0, len(lines), 300):
        _import(client, key, lines[start : start + 300])
    label = {f"RR/{n}": c.label for n, c in enumerate(copies)}
    with new_session() as read:
        rows = read.exec(select(DisclosureEntry.reference, DisclosureEntry.document)).all()
    found = {ref: orjson.loads(doc)["round_robin"] for ref, doc in rows}
    number = {ref: n for n, ref in enumerate(sorted(found))}
    truth = _pairs({number[r]: label[r] for r in found})
    grouped = _pairs({number[r]: g["id"] for r, g in found.items() if g is not None})
    precision = len(truth & grouped) / len(grouped)
    recall = len(truth & grouped) / len(truth)
    print(f"pairs {len(truth)}: precision {precision:.4f} recall {recall:.4f}")
    assert precision >= 0.95
    assert recall >= 0.95


def _publish_at_once(force: str, text: str, start: threading.Barrier, made: list[int]) -> None:
    with new_session(write=True) as own:
        start.wait()
        entry = publish(own, Spec(force=force, text=text, questions=[]))
        made.append(entry.id or 0)


def test_two_publishes_of_one_round_robin_at_once_end_in_one_group(session: Session) -> None:
    forces = [("kent", "Kent Police"), ("essex", "Essex Police")]
    forces += [("dorset", "Dorset Police"), ("surrey", "Surrey Police")]
    horses = "How many police horses does {f} keep, and what did stabling and feed cost in 2023?"
    for template in (copy, lambda name: horses.format(f=name)):
        start = threading.Barrier(len(forces))
        made: list[int] = []
        texts = [(force, template(name), start, made) for force, name in forces]
        threads = [threading.Thread(target=_publish_at_once, args=args) for args in texts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        groups = {orjson.dumps(group_of(i)) for i in made}
        assert len(made) == 4
        assert len(groups) == 1
        assert group_of(made[0])["size"] == 4  # type: ignore[index]


def test_the_entry_page_links_to_how_each_force_answered(
    client: TestClient, session: Session
) -> None:
    entries = [
        sent(session, "kent", "Kent Police"),
        sent(session, "essex", "Essex Police"),
        sent(session, "dorset", "Dorset Police"),
    ]
    alone = publish(session, Spec(force="kent", reference="OTHER/1", text="Speed cameras?"))
    group = group_of(entries[0].id)
    assert group is not None
    page = client.get(f"/disclosure-log/{entries[1].id}")
    link = f"/disclosure-log?round_robin={group['id']}"
    assert f'href="{link}"' in page.text
    listed = client.get(link)
    assert listed.status_code == 200
    for entry in entries:
        assert f'href="/disclosure-log/{entry.id}"' in listed.text
    assert f'href="/disclosure-log/{alone.id}"' not in listed.text
    # Its feeds and exports are of the group too (they carried `round_robins=`, a 400), and a
    # search from it keeps to the group.
    query = f"?round_robin={group['id']}"
    assert f'href="/v1/disclosure-log.csv{query}"' in listed.text
    assert f'/v1/disclosure-log.atom{query}"' in listed.text
    assert client.get(f"/v1/disclosure-log.atom{query}").status_code == 200
    assert f'name="round_robin" value="{group["id"]}"' in listed.text


def test_withdrawing_the_entry_that_bridged_two_parts_splits_the_group(
    session: Session, client: TestClient
) -> None:
    made = two_groups(session)
    first = group_of(made[0].id)
    bridge = publish(
        session, Spec(force="gwent", text=custody([0, 1, 2], "Gwent Police"), questions=[])
    )
    assert group_of(bridge.id) == {"id": first["id"], "size": 5}  # type: ignore[index]
    seen = len(change_feed())
    publishing.withdraw(session, bridge.id or 0, reason="error", actor=Actor.system("test"))
    # Kent and Essex ask what Dorset and Surrey do not: without the bridge, two groups again.
    # Of two parts of one size, the one with the oldest entry keeps the id.
    kept, split = group_of(made[0].id), group_of(made[2].id)
    assert kept == group_of(made[1].id) == {"id": first["id"], "size": 2}  # type: ignore[index]
    assert split == group_of(made[3].id)
    assert split is not None
    assert split["size"] == 2
    assert split["id"] != kept["id"]
    detail = client.get(f"/v1/round-robins/{split['id']}").json()
    assert [e["force"] for e in detail["entries"]] == ["dorset", "surrey"]
    assert sorted(change_feed()[seen:]) == sorted(
        [(bridge.id, "withdrawn"), *((e.id, "updated") for e in made)]
    )


def test_withdrawing_a_member_linked_to_the_rest_keeps_the_group_whole(
    session: Session,
) -> None:
    kent, essex, dorset = (
        sent(session, f, n) for f, n in [("kent", "Kent"), ("essex", "Essex"), ("dorset", "Dorset")]
    )
    group = group_of(kent.id)
    publishing.withdraw(session, dorset.id or 0, reason="error", actor=Actor.system("test"))
    assert group_of(kent.id) == group_of(essex.id) == {"id": group["id"], "size": 2}  # type: ignore[index]


def _unlinked(session: Session, spec: Spec) -> DisclosureEntry:
    """An entry as it was published before round-robins: no signature, no `round_robin`."""
    entry = publish(session, spec)
    session.execute(delete(RoundRobinBand).where(RoundRobinBand.entry_id == entry.id))  # type: ignore[arg-type]
    session.execute(delete(RoundRobinEntry).where(RoundRobinEntry.entry_id == entry.id))  # type: ignore[arg-type]
    document = stored_document(entry.id or 0)
    document.pop("round_robin")
    session.execute(
        update(DisclosureEntry)
        .where(DisclosureEntry.id == entry.id)  # type: ignore[arg-type]
        .values(document=orjson.dumps(document).decode())
    )
    session.commit()
    return entry


def test_backfill_links_entries_published_before_round_robins_and_runs_again_safely(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)
    old = [
        _unlinked(session, Spec(force=f, text=copy(n), questions=[]))
        for f, n in [("kent", "Kent"), ("essex", "Essex")]
    ]
    alone = _unlinked(session, Spec(force="dorset", text="Speed cameras?", questions=[]))
    # An import whose linking pass never ran (the process stopped once it had committed).
    monkeypatch.setattr(imports._Importer, "link", lambda self, on_progress=None: None)
    _import(client, key, [_line(1, "surrey", copy("Surrey Police"))])
    monkeypatch.undo()
    surrey = client.get("/v1/disclosure-log", params={"force": "surrey"}).json()["items"][0]
    assert not any("round_robin" in stored_document(e.id or 0) for e in old)
    assert surrey["round_robin"] is None
    seen = len(change_feed())
    monkeypatch.setattr(round_robins, "BATCH", 2)  # two batches: Kent and Essex, then the rest
    runner = CliRunner()
    done = runner.invoke(cli, ["round-robins", "backfill"])
    assert done.exit_code == 0, done.output
    assert "3 entries joined round-robins" in done.output
    group = group_of(old[0].id)
    assert group is not None
    assert group["size"] == 3
    assert group_of(old[1].id) == group_of(surrey["id"]) == group
    assert group_of(alone.id) is None  # the field is there now, `null`
    assert set(change_feed()[seen:]) == {
        (e, "updated") for e in (old[0].id, old[1].id, surrey["id"])
    }
    count = len(change_feed())
    again = runner.invoke(cli, ["round-robins", "backfill"])
    assert "0 entries joined round-robins" in again.output
    assert len(change_feed()) == count


class _Elected:
    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


def test_an_import_whose_linking_fails_is_in_and_the_runner_links_it(
    session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)

    def busy(*args: Any, **kwargs: Any) -> list[int]:
        raise WriteBusy("another writer holds the database", retry_after=1)

    # The import has committed; its linking pass cannot get the write lock.
    monkeypatch.setattr(round_robins, "group_announced", busy)
    _import(
        client,
        key,
        [_line(1, "surrey", copy("Surrey Police")), _line(2, "kent", copy("Kent Police"))],
    )
    monkeypatch.undo()
    surrey, kent = (
        client.get("/v1/disclosure-log", params={"force": force}).json()["items"][0]
        for force in ("surrey", "kent")
    )
    assert group_of(surrey["id"]) is None
    worker.Runner(_Elected(), worker.jobs()).round()
    group = group_of(surrey["id"])
    assert group is not None
    assert group == group_of(kent["id"])


def test_an_import_links_in_the_same_batches_on_both_databases_committing_them_as_each_may(
    session: Session, client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four copies, linked a batch of one at a time; the third batch fails. PostgreSQL commits
    # each batch (its lock table bounds a transaction); SQLite commits several batches at once,
    # so the failed transaction takes the first two batches' links with it. The runner links
    # whatever was left, and every database ends with the one group.
    key = make_key(session)
    monkeypatch.setattr(round_robins, "BATCH", 1)
    seen: list[list[int]] = []
    group_announced = round_robins.group_announced

    def failing_third(own: Session, entry_ids: list[int], **options: Any) -> list[int]:
        seen.append(entry_ids)
        if len(seen) == 3:
            raise WriteBusy("another writer holds the database", retry_after=1)
        return group_announced(own, entry_ids, **options)

    monkeypatch.setattr(round_robins, "group_announced", failing_third)
    forces = [("surrey", "Surrey Police"), ("kent", "Kent Police"), ("essex", "Essex Police")]
    forces.append(("dorset", "Dorset Police"))
    _import(client, key, [_line(n, f, copy(name)) for n, (f, name) in enumerate(forces, 1)])
    monkeypatch.undo()
    ids = [
        int(client.get("/v1/disclosure-log", params={"force": f}).json()["items"][0]["id"])
        for f, _ in forces
    ]
    assert seen == [[i] for i in ids[:3]]
    linked = [group_of(i) for i in ids]
    if database_url.startswith("sqlite"):
        assert linked == [None] * 4
    else:
        assert linked[0] == linked[1] == {"id": linked[0]["id"], "size": 2}  # type: ignore[index]
        assert linked[2:] == [None, None]
    worker.Runner(_Elected(), worker.jobs()).round()
    assert len({orjson.dumps(group_of(i)) for i in ids}) == 1
    assert group_of(ids[0])["size"] == 4  # type: ignore[index]


def test_the_runner_looks_for_unlinked_entries_without_the_write_lock(
    session: Session, database_url: str
) -> None:
    publish(session, Spec(force="kent", text=copy("Kent Police"), questions=[]))
    with write_lock_held(database_url):
        started = time.monotonic()
        assert worker.link_unlinked() == 0
        assert time.monotonic() - started < 5


@contextmanager
def linking_held(session: Session) -> Iterator[DisclosureEntry]:
    """While inside, another thread's publication of a Kent copy of the facial recognition
    round-robin has linked it (to an Essex copy) and not yet committed."""
    essex = sent(session, "essex", "Essex Police")
    holding, release = threading.Event(), threading.Event()
    link = round_robins._Linker.link

    def paused(self: round_robins._Linker, *args: Any, **kwargs: Any) -> list[int]:
        found = link(self, *args, **kwargs)
        if threading.current_thread().name == "holder":
            holding.set()
            release.wait(timeout=60)
        return found

    def hold() -> None:
        with new_session(write=True) as own:
            sent(own, "kent", "Kent Police")

    holder = threading.Thread(target=hold, name="holder")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(round_robins._Linker, "link", paused)
        holder.start()
        try:
            assert holding.wait(timeout=60), "the publication never linked"
            yield essex
        finally:
            release.set()
            holder.join(timeout=60)


def test_linking_blocks_no_unrelated_publish_and_copies_wait_for_each_other(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "write_wait_s", 2.0)
    other = "How many police horses does {f} keep, and what did stabling and feed cost in 2023?"
    made: list[int] = []
    with linking_held(session) as essex:
        started = time.monotonic()
        if database_url.startswith("sqlite"):
            # One writer at a time: a publication waits FOILOG_WRITE_WAIT_S, then says to retry.
            with pytest.raises(WriteBusy), new_session(write=True) as own:
                publish(own, Spec(force="gwent", text=other.format(f="Gwent"), questions=[]))
            return
        with new_session(write=True) as own:
            horses = publish(own, Spec(force="gwent", text=other.format(f="Gwent"), questions=[]))
        assert time.monotonic() - started < 5
        assert group_of(horses.id) is None
        # A copy of the held round-robin shares its band keys: it waits, then joins.
        copy_of = threading.Thread(
            target=_publish_at_once,
            args=("dorset", copy("Dorset Police"), threading.Barrier(1), made),
        )
        copy_of.start()
        copy_of.join(timeout=2)
        assert copy_of.is_alive()
    copy_of.join(timeout=60)
    assert group_of(made[0]) == group_of(essex.id)
    assert group_of(essex.id)["size"] == 3  # type: ignore[index]
