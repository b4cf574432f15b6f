"""Accuracy of letter extraction, per field, on a directory of letters with expected drafts.

Each `NAME.json` in the directory gives what a letter holds (reference, dates, kind, outcome,
citations as [exemption, provision, ncnd], question numbers, signatory, requester names that must
not reach the draft) and the formats to try it in; the letter is `NAME.txt` beside it, or the
package file named by `"letter"`. Each letter is rendered as a real PDF (fpdf2), DOCX
(python-docx) or HTML page as listed, then read back through the extractor.

    .venv/bin/python scripts/letters_accuracy.py [DIR] [--show-misses]
"""

import argparse
import html
import io
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from app.errors import FoilogError
from app.letters import service

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "tests" / "letters" / "corpus"
MEDIA_TYPES = {
    "txt": "text/plain",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
# What the core PDF fonts cannot draw, as a typewriter would write it.
_LATIN1 = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
    | {"\u2026": "..."}
)
TARGETS = {
    "reference": 0.90,
    "outcome": 0.80,
    "citations_f1": 0.85,
    "ncnd": 0.90,
    "dates": 0.85,
    "question_numbers": 0.75,
    "signatory": 0.75,
}


def render(text: str, fmt: str) -> bytes:
    if fmt == "txt":
        return text.encode()
    if fmt == "html":
        title = html.escape(text.strip().split("\n", 1)[0])
        paragraphs = "\n".join(
            f"<p>{html.escape(line)}</p>" if line.strip() else "" for line in text.split("\n")
        )
        return (
            "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
            f"<title>{title}</title><style>p{{margin:0}}</style>"
            "<script>var tracking = 'none';</script></head><body>"
            "<nav><a href='/'>Home</a></nav><main>"
            f"{paragraphs}</main><footer>&copy; Disclosure log</footer></body></html>"
        ).encode()
    if fmt == "docx":
        from docx import Document

        document = Document()
        for line in text.split("\n"):
            document.add_paragraph(line)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    if fmt == "pdf":
        from fpdf import FPDF

        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in text.split("\n"):
            if line.strip():
                safe = line.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
                pdf.multi_cell(0, 5, safe, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(5)
        return bytes(pdf.output())
    raise ValueError(f"unknown format {fmt!r}")


@dataclass
class Case:
    name: str
    fmt: str
    expected: dict[str, Any]
    text: str


def cases(directory: Path) -> list[Case]:
    found: list[Case] = []
    for path in sorted(directory.glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        if "letter" in expected:
            text = (resources.files("app.letters") / expected["letter"]).read_text(encoding="utf-8")
        else:
            text = path.with_suffix(".txt").read_text(encoding="utf-8")
        for fmt in expected.get("formats", ["txt"]):
            found.append(Case(path.stem, fmt, expected, text))
    return found


@dataclass
class Tally:
    right: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    errors: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def score(self, name: str, case: str, ok: bool, got: Any, wanted: Any) -> None:
        self.total[name] += 1
        if ok:
            self.right[name] += 1
        else:
            self.misses.append(f"{case}: {name}: got {got!r}, expected {wanted!r}")

    def rates(self) -> dict[str, float]:
        rates = {name: self.right[name] / self.total[name] for name in self.total}
        denominator = 2 * self.true_positive + self.false_positive + self.false_negative
        rates["citations_f1"] = 2 * self.true_positive / denominator if denominator else 1.0
        return rates


def _norm(value: Any) -> Any:
    return re.sub(r"\s+", " ", value).strip().lower() if isinstance(value, str) else value


def evaluate(directory: Path = DEFAULT_DIR) -> Tally:
    tally = Tally()
    for case in cases(directory):
        label = f"{case.name}.{case.fmt}"
        expected = case.expected
        try:
            result = service.extract(
                render(case.text, case.fmt),
                media_type=MEDIA_TYPES[case.fmt],
                force=expected["force"],
                max_bytes=10_485_760,
            )
        except FoilogError as exc:
            tally.errors.append(f"{label}: {exc.status} {exc.detail}")
            continue
        entry = result.entry
        response = entry["responses"][0]
        tally.score(
            "reference",
            label,
            entry.get("reference") == expected["reference"],
            entry.get("reference"),
            expected["reference"],
        )
        tally.score(
            "outcome",
            label,
            response.get("outcome") == expected["outcome"],
            response.get("outcome"),
            expected["outcome"],
        )
        tally.score(
            "kind", label, response["kind"] == expected["kind"], response["kind"], expected["kind"]
        )
        for got, wanted, name in (
            (entry.get("received_on"), expected["received_on"], "received_on"),
            (response.get("responded_on"), expected["responded_on"], "responded_on"),
        ):
            tally.score("dates", label, got == wanted, f"{name} {got}", wanted)
        numbers = [q["number"] for q in entry["request"]["questions"]]
        tally.score(
            "question_numbers",
            label,
            numbers == expected["questions"],
            numbers,
            expected["questions"],
        )
        got_pairs = {(c["exemption"], c["provision"]) for c in response["citations"]}
        wanted_pairs = {(e, p) for e, p, _ in expected["citations"]}
        tally.true_positive += len(got_pairs & wanted_pairs)
        tally.false_positive += len(got_pairs - wanted_pairs)
        tally.false_negative += len(wanted_pairs - got_pairs)
        if got_pairs != wanted_pairs:
            tally.misses.append(
                f"{label}: citations: got {sorted(got_pairs)}, expected {sorted(wanted_pairs)}"
            )
        got_ncnd = sorted(c["exemption"] for c in response["citations"] if c["ncnd"])
        wanted_ncnd = sorted(e for e, _, ncnd in expected["citations"] if ncnd)
        tally.score("ncnd", label, got_ncnd == wanted_ncnd, got_ncnd, wanted_ncnd)
        signatory = response.get("signatory")
        wanted_signatory = expected["signatory"]
        same = (signatory is None) == (wanted_signatory is None) and (
            signatory is None
            or all(_norm(signatory.get(k)) == _norm(wanted_signatory[k]) for k in ("name", "role"))
        )
        tally.score("signatory", label, same, signatory, wanted_signatory)
        dumped = json.dumps(entry, ensure_ascii=False)
        leaked = [name for name in expected.get("requester", []) if name in dumped]
        tally.score("requester_kept_out", label, not leaked, leaked, [])
    return tally


def table(tally: Tally) -> str:
    rates = tally.rates()
    rows = ["| field | accuracy | target |", "| --- | --- | --- |"]
    order = [*TARGETS, "kind", "requester_kept_out"]
    for name in order:
        target = TARGETS.get(name)
        mark = f"≥{target:.0%}" if target is not None else "-"
        rows.append(f"| {name} | {rates.get(name, 0.0):.1%} | {mark} |")
    cases_run = tally.total["reference"] + len(tally.errors)
    rows.append(f"| letters read (4xx refusals) | {cases_run} ({len(tally.errors)}) | - |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--show-misses", action="store_true", help="list every wrong field")
    arguments = parser.parse_args()
    tally = evaluate(arguments.directory)
    print(table(tally))
    if arguments.show_misses:
        for line in [*tally.errors, *tally.misses]:
            print(line)
    rates = tally.rates()
    below = [name for name, target in TARGETS.items() if rates.get(name, 0.0) < target]
    return 1 if below or tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
