from pydantic import BaseModel


class TopicPublic(BaseModel):
    slug: str
    label: str
    entry_count: int
