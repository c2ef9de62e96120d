# consult-bot: long polling by default (webhook mode with WEBHOOK_URL);
# the database in /app/data, mounted as a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system bot && useradd --system --gid bot --home-dir /app --shell /usr/sbin/nologin bot

# The package build needs the texts and content beside the code (they are bundled).
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY locales /src/locales
COPY data/topics.yaml data/canned.yaml data/shipped-issues.yaml data/search.yaml /src/data/
COPY data/digests /src/data/digests
RUN pip install /src \
    && mkdir -p /app/content /app/data \
    && cp -r /src/data/topics.yaml /src/data/canned.yaml /src/data/shipped-issues.yaml \
        /src/data/search.yaml /src/data/digests /app/content/ \
    && cp -r /src/locales /app/locales \
    && rm -rf /src \
    && chown -R bot:bot /app/data /app/content

WORKDIR /app
USER bot
VOLUME ["/app/data"]
# Webhook mode only: the webhook server and GET /healthz.
EXPOSE 8080
# The database lives in the volume, and with it every published issue; the content (the
# shipped issues and any drafts copied in) and the texts are in the image.
ENV DATABASE_PATH=/app/data/consult-bot.sqlite3 \
    CONTENT_DIR=/app/content \
    LOCALES_DIR=/app/locales
CMD ["python", "-m", "bot"]
