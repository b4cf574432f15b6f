from typing import Any

from pydantic import BaseModel, Field


class Extraction(BaseModel):
    """A draft entry document (SPEC §7, input fields only) read from one letter; nothing is
    stored. `confidence` is per field path, 0.0-1.0; `warnings` say what is missing, what was
    left out (the requester) and which SPEC §1 rule the draft breaks."""

    entry: dict[str, Any]
    confidence: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
