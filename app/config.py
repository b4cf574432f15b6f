from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOILOG_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./foilog.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    cache_max_age: int = Field(
        default=60, ge=0, description="max-age in seconds of Cache-Control on public GETs"
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest JSON request body accepted (bytes)"
    )
    max_import_bytes: int = Field(
        default=1_073_741_824, ge=1024, description="largest NDJSON body POST /v1/import accepts"
    )
    max_query_length: int = Field(
        default=1000, ge=10, description="longest full-text query `q` accepted (characters)"
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="public address of the API, used in absolute links (Atom feeds)",
    )
    kept_answers_mb: int = Field(
        default=32,
        ge=0,
        description="memory per process for public answers kept under their ETag (log pages, "
        "stats) until the data changes; 0 keeps none",
    )
    db_pool_size: int = Field(default=5, ge=1, description="PostgreSQL connections per process")
    write_wait_s: float = Field(
        default=5.0,
        gt=0,
        description="SQLite: how long a write waits for another's lock before answering 503",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
