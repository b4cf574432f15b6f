from functools import lru_cache

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator
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
    max_letter_bytes: int = Field(
        default=10_485_760,
        ge=1024,
        description="largest letter POST /v1/letters/extract and `foilog extract` read (bytes)",
    )
    max_query_length: int = Field(
        default=1000, ge=10, description="longest full-text query `q` accepted (characters)"
    )
    base_url: str | None = Field(
        default=None,
        description="public address of the API, used in absolute links (Atom ids and links, "
        "CSV url, page links); unset, the address each request reached",
    )
    max_attachment_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1,
        description="largest attachment POST /v1/responses/{id}/attachments accepts (bytes)",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="let webhooks target private, loopback, link-local and reserved addresses",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="how long one webhook delivery may take"
    )
    webhook_retry_seconds: float = Field(
        default=30.0,
        gt=0,
        le=60,
        description="delay before the first retry of a failed delivery; each next one doubles",
    )
    webhook_retry_hours: float = Field(
        default=24.0,
        gt=0,
        description="how long a failing delivery is retried before its subscription is disabled",
    )
    webhook_delivery_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="how long a webhook delivery attempt stays in the deliveries log",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s) encrypting webhook secrets at rest, comma-separated, the "
        "newest first (older ones only decrypt)",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="how often the background runner looks for work"
    )
    read_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="public reads computed at once per process (unset: 1 on SQLite, 4 on "
        "PostgreSQL); the rest wait their turn, so writes do not share the interpreter with "
        "many reads",
    )
    db_pool_size: int = Field(
        default=5, ge=1, description="PostgreSQL connections per process in each of its two pools"
    )
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="seconds a request waits for a pooled database connection before failing",
    )
    read_database_url: str | None = Field(
        default=None,
        description="optional PostgreSQL streaming replica that public reads go to; keyed "
        "calls and writes use FOILOG_DATABASE_URL",
    )
    write_wait_s: float = Field(
        default=5.0,
        gt=0,
        description="SQLite: how long a write waits for another's lock before answering 503",
    )
    sqlite_cache_mb: int = Field(
        default=16,
        ge=1,
        description="SQLite: pages each connection keeps in its own memory, in MB",
    )
    sqlite_mmap_mb: int = Field(
        default=2047,
        ge=0,
        le=2047,
        description="SQLite: how much of the database file connections read through a shared "
        "memory map rather than copies, in MB (0: none; SQLite's own ceiling is 2047)",
    )

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """Each key must be a Fernet key, so a typo stops foilog at start, not at a delivery."""
        if value is None:
            return None
        for index, key in enumerate(value.get_secret_value().split(","), start=1):
            try:
                Fernet(key.strip())
            except ValueError:
                raise ValueError(
                    f"key {index} is not a Fernet key (32 bytes in url-safe base64; make one "
                    "with cryptography's Fernet.generate_key())"
                ) from None
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
