# syntax=docker/dockerfile:1
# Build stage: the locked dependencies in a virtualenv, compiled wheels and all.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r requirements.lock

# Run stage: the virtualenv and the source, as an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv/foilog \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FOILOG_DATABASE_URL=sqlite:////data/foilog.db
RUN groupadd --system --gid 10001 foilog \
    && useradd --system --uid 10001 --gid foilog --home-dir /srv/foilog --shell /usr/sbin/nologin foilog \
    && mkdir -p /data \
    && chown foilog:foilog /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/foilog
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
# Migrations first (idempotent), then the server; WORKERS sets the process count.
CMD ["sh", "-c", "python -m app.cli db upgrade && exec python -m app.cli serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
