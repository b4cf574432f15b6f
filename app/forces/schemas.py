from pydantic import BaseModel

from app.models import Law


class ForcePublic(BaseModel):
    id: str
    name: str
    country: str
    law: Law
    holiday_calendar: str
    entry_count: int
