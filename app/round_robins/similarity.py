"""What makes two request texts one round-robin: the text reduced to what the requester wrote
for every force, its word shingles, and their MinHash signature cut into LSH bands.

Two requests whose shingle sets have Jaccard similarity J share at least one band key with
probability 1 - (1 - J^ROWS)^BANDS: about 0.99 at J = 0.7 and 0.004 at J = 0.1. The band keys
are stored in an indexed table, so finding candidates is an index lookup in the database; each
candidate is then verified by the Jaccard similarity their stored signatures estimate."""

import hashlib
import json
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE = 3  # words per shingle
BANDS = 16
ROWS = 4  # signature values per band
# Signature values: the first BANDS * ROWS make the band keys; all of them estimate similarity
# (within about 0.045 at 0.5, one standard deviation).
VALUES = 64
THRESHOLD = 0.5  # Jaccard similarity at or above which two texts are one request
MERGE_THRESHOLD = 0.6  # at or above which an entry joins a second group to its own
MIN_WORDS = 8  # fewer words than this ("please see attached") link nothing
# Permutations fixed by seed: stored band keys stay valid across processes and restarts.
SEED = 1
SCHEME = "affine32"

_SALUTATION = re.compile(
    r"^\s*(?:dear\s+(?:sir(?:s)?\s*(?:/|or|and)?\s*(?:madam)?|madam|all|team|foi\b[^,\n]{0,40}"
    r"|freedom of information[^,\n]{0,40}|[^,\n]{0,40})|hello(?:\s+there)?|hi|good\s+"
    r"(?:morning|afternoon|evening|day)|to whom it may concern|greetings)\s*[,.:;!-]*\s*",
)
_SIGN_OFF = re.compile(
    r"(?:\b(?:kind|best|warm|many)?\s*regards\b|\byours\s+(?:faithfully|sincerely|truly)\b"
    r"|\bbest wishes\b|\bmany thanks\b|\bthanks? (?:you )?in advance\b"
    r"|\bthank you (?:for your (?:time|help|assistance)|very much)\b)"
)
# List markers: `1.`, `(2)`, `3)`, `Q4:`, `b)`, `iv.`; copies number their questions differently.
# Each starts the text or follows a space.
_MARKER = re.compile(
    r"(?<!\S)(?:q(?:uestion)?\s*)?\(?(?:\d{1,2}[a-z]?|[a-h]|[ivx]{1,4})[.):]+(?=\s)"
)
_WORD = re.compile(r"\w+")
_FORCE_SUFFIX = r"(?:\s+(?:police(?:\s+(?:service|force))?|constabulary))?"


@cache
def _force_names() -> re.Pattern[str]:
    """Every force's name, and its place name with any of the usual endings: a round-robin
    says "Kent Police" in one copy and "Hertfordshire Constabulary" in the next."""
    reference = files("app") / "reference" / "forces.json"
    names: set[str] = {"psni", "the met", "met police", "police scotland"}
    for force in json.loads(reference.read_text("utf-8")):
        name = _fold(force["name"])
        names.add(name)
        place = re.sub(r"\s*\(.*\)|\s+(?:police(?:\s+service)?|constabulary)$", "", name)
        place = re.sub(r"^police service of\s+", "", place)
        if place and place != name:
            names.add(place)
    return re.compile(rf"\b{_alternation(names)}{_FORCE_SUFFIX}\b")


def _alternation(names: Iterable[str]) -> str:
    """A pattern matching any of the names, longest first, written as a trie: `kent|kent
    police` as `kent(?: police)?`. Python's `re` tries a flat alternation's branches one by one at
    every word; a trie branches on one character at a time (130 µs a request text against 46)."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branches(trie)


def _branches(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    branches = [re.escape(char) + _branches(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    either = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{either})?" if "" in node else either


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")


def words(text: str) -> list[str]:
    """The words a requester wrote for every force: no salutation, no sign-off and what
    follows it, no force names, no punctuation or case."""
    text = _fold(text)
    text = _SALUTATION.sub("", text, count=1)
    if (sign_off := _SIGN_OFF.search(text)) is not None and sign_off.start() > 0:
        text = text[: sign_off.start()]
    text = _force_names().sub(" force ", text)
    text = _MARKER.sub(" ", text)
    return _WORD.findall(text)


def request_text(text: str, questions: Iterable[str]) -> str:
    """The text compared: the request and its numbered questions."""
    return "\n".join([text, *questions])


def shingles(text: str) -> frozenset[str]:
    """Overlapping runs of SHINGLE words; empty for a text too short to be a round-robin."""
    found = words(text)
    if len(found) < MIN_WORDS:
        return frozenset()
    return frozenset(" ".join(found[i : i + SHINGLE]) for i in range(len(found) - SHINGLE + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@cache
def _template() -> "MinHash":
    # datasketch brings scipy with it, 0.6 s of CPU to import: only writes that link texts
    # need it, so a command imports it then; a server does it as it starts (`prepare`).
    from datasketch import MinHash

    return MinHash(num_perm=VALUES, seed=SEED, scheme=SCHEME)


def prepare() -> None:
    """Import what linking needs now, not in the first publication (0.6 s of its 0.9), and
    compile the force names' pattern (an alternation of about a hundred names)."""
    _template()
    _force_names()


_FIRST_WORD = struct.Struct("<I")


def _sha1_32(data: bytes) -> int:
    """datasketch's `sha1_hash32` (a signature's hash of each shingle), without its slice:
    a fifth of a signature's time."""
    return int(_FIRST_WORD.unpack_from(hashlib.sha1(data).digest())[0])  # noqa: S324 (not security)


def signatures(shingled: Sequence[frozenset[str]]) -> list[bytes | None]:
    """Each shingle set's MinHash signature (VALUES 32-bit values); None for a set with no
    shingles, which is linked with nothing."""
    template = _template()
    found: list[bytes | None] = []
    for shingles in shingled:
        if not shingles:
            found.append(None)
            continue
        signature = type(template)(
            num_perm=VALUES,
            seed=SEED,
            permutations=template.permutations,
            scheme=SCHEME,
            hashfunc=_sha1_32,
        )
        signature.update_batch([s.encode() for s in shingles])
        found.append(np.asarray(signature.hashvalues, dtype="<u4").tobytes())
    return found


def band_keys(signature: bytes | None) -> list[int]:
    """The signature's LSH band keys: signed 64-bit, as a BIGINT column holds them."""
    if signature is None:
        return []
    width = ROWS * 4
    return sorted(
        {
            int.from_bytes(
                hashlib.blake2b(
                    bytes([band]) + signature[band * width : (band + 1) * width], digest_size=8
                ).digest(),
                "little",
                signed=True,
            )
            for band in range(BANDS)
        }
    )


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """The share of signature values two texts have in common: their shingle sets' Jaccard
    similarity."""
    return float(np.mean(np.frombuffer(a, dtype="<u4") == np.frombuffer(b, dtype="<u4")))


def estimated_jaccards(signature: bytes, others: Sequence[bytes]) -> list[float]:
    """`estimated_jaccard` of one signature against each of others, in one array operation."""
    if not others:
        return []
    mine = np.frombuffer(signature, dtype="<u4")
    theirs = np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), len(mine))
    return [float(share) for share in (theirs == mine).mean(axis=1)]
