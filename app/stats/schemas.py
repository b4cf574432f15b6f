from pydantic import BaseModel, Field


class Timeliness(BaseModel):
    responded: int = Field(description="entries with an initial response")
    within_deadline: int = Field(description="of those, answered by the (extended) due date")
    rate: float | None = Field(description="within_deadline / responded; null when none")
    median_working_days: float | None = Field(
        description="median working days from receipt to the first initial response"
    )


class Stats(BaseModel):
    """Counts over the published entries that match the log's filters. Each `by_...` maps a
    value to its count, most frequent first; `by_month` is keyed `YYYY-MM` of `received_on`,
    oldest first. An entry counts once per exemption and topic it has. Counts kept on write
    answer any `force`, `outcome` and `law`, at most one `topic`, and `received_from` /
    `received_to` on a 1 January / 31 December quickly; other filters (`q`, `exemption`,
    `reference`, `round_robin`, published dates, several topics, other receipt dates) read
    every entry they select, with the same result, more slowly."""

    total: int
    by_outcome: dict[str, int]
    by_exemption: dict[str, int]
    by_topic: dict[str, int]
    by_force: dict[str, int]
    by_month: dict[str, int]
    timeliness: Timeliness
