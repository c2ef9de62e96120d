# consult-bot: long polling by default; state in /app/data (mount it as a volume).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN groupadd --system bot && useradd --system --gid bot --home-dir /app --shell /usr/sbin/nologin bot

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY locales ./locales
COPY data/topics.yaml ./content/topics.yaml
COPY data/digests ./content/digests
COPY data/canned.yaml ./content/canned.yaml
RUN pip install . && mkdir -p /app/data && chown -R bot:bot /app/data

USER bot
VOLUME ["/app/data"]
# Webhook mode only (WEBHOOK_URL set): the webhook server and GET /healthz.
EXPOSE 8080
# The database lives in the volume; digest content and texts are part of the image.
ENV DATABASE_PATH=/app/data/consult-bot.sqlite3 \
    CONTENT_DIR=/app/content \
    LOCALES_DIR=/app/locales
CMD ["python", "-m", "bot"]
