"""Mirror one foilog instance into another through their public APIs only.

    python scripts/mirror.py --source http://127.0.0.1:8101 --target http://127.0.0.1:8102 \\
        --key <an admin key of the target> [--state mirror.cursor] [--once] [--interval 10]

It polls the source's GET /v1/changes and applies each change to the target, in order:
- published / updated: the entry document is upserted through the target's POST /v1/import,
  which matches it by (force, reference) and keeps the source's published_at;
- withdrawn: the target's copy is found by force and reference (the tombstone carries both)
  and withdrawn there with the source's reason;
- a document the target refuses (a rule it holds that the source's data breaks, as data stored
  before the rule may) is reported on standard error and left out, the rest of its page
  imported one by one: one entry never stops the mirror for good;
- attachments: each listed in a document is downloaded from the source and uploaded to the
  target's matching response (by position), unless the target has one with its SHA-256
  already; the target's attachments the source no longer lists are removed.
The cursor is saved in the state file each time the target has caught up, so a restart resumes
there (changes applied again are harmless: an upsert is an upsert).
"""

import argparse
import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

PAGE = 100
CHUNK = 1024 * 1024


@dataclass
class Applied:
    upserted: int = 0
    withdrawn: int = 0
    attachments_copied: int = 0
    attachments_removed: int = 0
    refused: list[str] = field(default_factory=list)  # "force reference: why", one a document


def changes(source: httpx.Client, since: str | None) -> tuple[list[dict[str, Any]], str]:
    """One page of the source's changes after `since`, and the cursor to poll with next."""
    params: dict[str, Any] = {"limit": PAGE}
    if since is not None:
        params["since"] = since
    response = source.get("/v1/changes", params=params)
    response.raise_for_status()
    body = response.json()
    return body["items"], body["next_cursor"]


def upsert(
    target: httpx.Client, key: str, documents: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], str]]:
    """Import entry documents into the target, all in one request (all or nothing); if it
    refuses one (422), each alone, so that the rest go in. Returns those refused, with why."""
    response = _import(target, key, documents)
    if response.status_code != 422:
        response.raise_for_status()
        return []
    if len(documents) == 1:
        return [(documents[0], response.json().get("detail", response.text))]
    return [refused for document in documents for refused in upsert(target, key, [document])]


def _import(target: httpx.Client, key: str, documents: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(json.dumps(document) + "\n" for document in documents).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
    return target.post("/v1/import", content=body, headers=headers)


def _key(reference: str) -> str:
    """A reference as lookups compare it: case and white space ignored."""
    return "".join(reference.split()).lower()


def withdraw(target: httpx.Client, key: str, tombstone: dict[str, Any]) -> bool:
    """Withdraw the target's copy of a withdrawn entry; False when it has none to withdraw."""
    force, reference = quote(tombstone["force"], safe=""), quote(tombstone["reference"], safe="/")
    found = target.get(f"/v1/forces/{force}/references/{reference}")
    if found.status_code in (404, 410):  # never mirrored, or withdrawn already
        return False
    if found.status_code == 300:
        # A name entries share (one's reference, another's alias): the entry whose own
        # reference it is, as the tombstone names it.
        own = _key(tombstone["reference"])
        ids = [e["id"] for e in found.json()["entries"] if _key(e["reference"]) == own]
        if not ids:
            return False
        entry_id = ids[0]
    else:
        found.raise_for_status()
        entry_id = found.json()["id"]
    response = target.post(
        f"/v1/disclosure-log/{entry_id}/withdraw",
        json={"reason": tombstone["reason"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    response.raise_for_status()
    return True


def _copy(
    source: httpx.Client, target: httpx.Client, key: str, listed: dict[str, Any], to: int
) -> None:
    """Download one attachment from the source, check its SHA-256, upload it to response `to`
    of the target; the file passes through a temporary file, never whole in memory."""
    with tempfile.TemporaryFile() as spool:
        digest = hashlib.sha256()
        with source.stream("GET", f"/v1/attachments/{listed['id']}") as download:
            download.raise_for_status()
            for chunk in download.iter_bytes(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
        if digest.hexdigest() != listed["sha256"]:
            raise ValueError(f"attachment {listed['url']} does not match its SHA-256")
        spool.seek(0)
        response = target.post(
            f"/v1/responses/{to}/attachments",
            files={"file": (listed["filename"], spool, listed["media_type"])},
            headers={"Authorization": f"Bearer {key}"},
        )
        response.raise_for_status()


def attachments(
    source: httpx.Client, target: httpx.Client, key: str, document: dict[str, Any]
) -> tuple[int, int]:
    """Make the target's attachments of this entry those the source lists: (copied, removed)."""
    listed = document.get("attachments") or []
    auth = {"Authorization": f"Bearer {key}"}
    params = {"force": document["force"], "reference": document["reference"]}
    found = target.get("/v1/attachments", params=params, headers=auth)
    found.raise_for_status()
    copied = removed = 0
    for position, response in enumerate(found.json()["responses"]):
        wanted = {a["sha256"]: a for a in listed if a["response"] == position}
        held = {a["sha256"]: a for a in response["attachments"]}
        for sha256, attachment in wanted.items():
            if sha256 not in held:
                _copy(source, target, key, attachment, response["id"])
                copied += 1
        for sha256, attachment in held.items():
            if sha256 not in wanted:
                target.delete(
                    f"/v1/attachments/{attachment['id']}", headers=auth
                ).raise_for_status()
                removed += 1
    return copied, removed


def apply(
    target: httpx.Client, key: str, items: list[dict[str, Any]], source: httpx.Client | None = None
) -> Applied:
    """Apply one page of changes in order. A change carries its entry as it is now, so an entry
    changed twice in a page is imported once, and a withdrawn one only as its tombstone. With
    `source`, attachments follow each entry that lists some or was updated (which may have
    removed some)."""
    applied = Applied()
    pending: dict[int, dict[str, Any]] = {}
    updated: set[int] = set()

    def settle() -> None:
        if not pending:
            return
        refused = upsert(target, key, list(pending.values()))
        applied.upserted += len(pending) - len(refused)
        applied.refused += [f"{d['force']} {d['reference']}: {why}" for d, why in refused]
        left_out = {id(document) for document, _ in refused}
        if source is not None:
            for entry_id, document in pending.items():
                if id(document) in left_out:
                    continue
                if document.get("attachments") or entry_id in updated:
                    copied, removed = attachments(source, target, key, document)
                    applied.attachments_copied += copied
                    applied.attachments_removed += removed
        pending.clear()

    for item in items:
        entry = item["entry"]
        if entry["status"] == "withdrawn":
            settle()
            applied.withdrawn += withdraw(target, key, entry)
        else:
            pending[item["id"]] = entry
            if item["change"] == "updated":
                updated.add(item["id"])
    settle()
    return applied


def sync(source: httpx.Client, target: httpx.Client, key: str, since: str | None) -> str:
    """Apply every change after `since` until caught up; returns the cursor to poll with next."""
    while True:
        items, cursor = changes(source, since)
        applied = apply(target, key, items, source)
        if items:
            print(
                f"{len(items)} changes: {applied.upserted} upserted, "
                f"{applied.withdrawn} withdrawn, {applied.attachments_copied} attachments copied, "
                f"{applied.attachments_removed} removed",
                flush=True,
            )
        for refused in applied.refused:
            print(f"refused by the target, left out: {refused}", file=sys.stderr, flush=True)
        since = cursor
        if len(items) < PAGE:
            return cursor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="the instance to copy from")
    parser.add_argument("--target", required=True, help="the instance to copy into")
    parser.add_argument("--key", required=True, help="an admin key of the target")
    parser.add_argument("--state", type=Path, default=Path("mirror.cursor"), help="cursor file")
    parser.add_argument("--once", action="store_true", help="stop once caught up")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    args = parser.parse_args()
    since = args.state.read_text().strip() or None if args.state.exists() else None
    with httpx.Client(base_url=args.source) as source, httpx.Client(base_url=args.target) as target:
        while True:
            since = sync(source, target, args.key, since)
            args.state.write_text(since)
            if args.once:
                return
            time.sleep(args.interval)


if __name__ == "__main__":
    main()
