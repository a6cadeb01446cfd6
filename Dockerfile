# Bürgerservice: one image for web (gunicorn), Celery worker and Celery beat.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/static-collected
WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app app
COPY requirements.txt ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
COPY --from=assets /app/node_modules ./node_modules
COPY . .
# Catalogues and static files are built into the image; SECRET_KEY here only lets settings load.
RUN pybabel -q compile -d locale -D django \
    && SECRET_KEY=build-only-not-used-at-runtime python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var && chown app /app/var
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["python", "-m", "buergerservice.healthcheck", "web"]
CMD ["gunicorn", "buergerservice.wsgi", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
