"""Extraction accuracy on the project's own test set, held to the targets: a rule that gets
worse fails here."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "letters_accuracy.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("letters_accuracy", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


accuracy = _load()


@pytest.fixture(scope="module")
def tally() -> object:
    return accuracy.evaluate()


def test_the_set_is_varied() -> None:
    cases = accuracy.cases(accuracy.DEFAULT_DIR)
    letters = {case.name for case in cases}
    assert len(letters) >= 40
    assert {case.fmt for case in cases} == {"txt", "pdf", "docx", "html"}
    assert len({case.expected["force"] for case in cases}) >= 30
    outcomes = {case.expected["outcome"] for case in cases}
    assert len(outcomes) == 8
    assert {case.expected["kind"] for case in cases} == {"initial", "internal_review"}


def test_every_field_meets_its_target(tally: object) -> None:
    rates = tally.rates()  # type: ignore[attr-defined]
    below = {
        name: round(rates.get(name, 0.0), 3)
        for name, target in accuracy.TARGETS.items()
        if rates.get(name, 0.0) < target
    }
    assert below == {}, "\n".join(tally.misses)  # type: ignore[attr-defined]


def test_no_letter_is_refused_and_no_requester_reaches_a_draft(tally: object) -> None:
    assert tally.errors == []  # type: ignore[attr-defined]
    assert tally.rates()["requester_kept_out"] == 1.0  # type: ignore[attr-defined]
