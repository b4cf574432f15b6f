"""What makes two request texts one round-robin: the text reduced to what the requester wrote
for every force, its word shingles, and their MinHash signature cut into LSH bands.

Two requests whose shingle sets have Jaccard similarity J share at least one band key with
probability 1 - (1 - J^ROWS)^BANDS: about 0.99 at J = 0.7 and 0.004 at J = 0.1. The band keys
are stored in an indexed table, so finding candidates is an index lookup in the database; each
candidate is then verified by the Jaccard similarity their stored signatures estimate."""

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

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


_Values = np.ndarray[Any, np.dtype[np.uint32]]


@cache
def _permutations() -> tuple[_Values, _Values]:
    """The VALUES permutations h -> a * h + b (mod 2^32, a odd) of datasketch 2's "affine32"
    MinHash with seed SEED, drawn as it draws them: the signatures stored before this module
    computed them itself stay comparable (tests/test_round_robins.py checks it against
    datasketch). Computed here because the library's import brought scipy into every serving
    process (25 MB each, 0.6 s of CPU) and built an object per text."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, VALUES, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, VALUES, dtype=np.uint32)
    return a, b


def prepare() -> None:
    """Draw the permutations and compile the force names' pattern (an alternation of about a
    hundred names) now, not in a worker's first publication."""
    _permutations()
    _force_names()


# Texts whose shingles are hashed and permuted together: a block of (shingles, VALUES) 32-bit
# values, some 10 MB for requests of a few hundred words.
SIGNATURE_BLOCK = 256
# Each SHA-1 digest is 5 little-endian 32-bit words; a shingle's hash is the first
# (datasketch's `sha1_hash32`).
_DIGEST_WORDS = 5


def _fmix32(values: _Values) -> _Values:
    """MurmurHash3's finalizer, the bijection the scheme mixes each hash with first."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(shingled: Sequence[frozenset[str]]) -> list[bytes | None]:
    """Each shingle set's MinHash signature (VALUES 32-bit values, little-endian); None for a
    set with no shingles, which is linked with nothing. Each value is the least of the set's
    hashes under one permutation."""
    found: list[bytes | None] = [None] * len(shingled)
    a, b = _permutations()
    sha1 = hashlib.sha1  # the shingles' hash, as datasketch's: not for security
    numbered = [(i, shingles) for i, shingles in enumerate(shingled) if shingles]
    for start in range(0, len(numbered), SIGNATURE_BLOCK):
        block = numbered[start : start + SIGNATURE_BLOCK]
        digests = b"".join([sha1(s.encode()).digest() for _, shingles in block for s in shingles])
        hashes = np.frombuffer(digests, dtype="<u4")[::_DIGEST_WORDS]
        permuted = _fmix32(hashes)[:, np.newaxis] * a + b
        starts = np.cumsum([0, *(len(shingles) for _, shingles in block[:-1])])
        least = np.minimum.reduceat(permuted, starts, axis=0).astype("<u4")
        for (i, _), values in zip(block, least, strict=True):
            found[i] = values.tobytes()
    return found


def sign(texts: Sequence[str]) -> list[bytes | None]:
    """Each text's signature (None for one too short to link): what `store` keeps."""
    return signatures([shingles(text) for text in texts])


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
