# syntax=docker/dockerfile:1
# rms-ml-push: build a wheel-installed virtualenv, then copy it into a slim runtime image
# that runs as a non-root user. Build: docker build -t rms-ml-push .
# Run:   docker run -e RMS_ML_RMS_URL=... -e RMS_ML_WEBHOOK_URL=... \
#          -e RMS_ML_WEBHOOK_SECRET_FILE=/run/secrets/hook -p 8080:8080 rms-ml-push

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p src/rms_ml_push && touch src/rms_ml_push/__init__.py \
    && pip install --upgrade pip \
    && pip install . \
    && pip uninstall -y rms-ml-push
COPY src ./src
RUN pip install --no-deps . && rms-ml-push --help > /dev/null

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    # Inside a container the endpoint must listen beyond loopback.
    RMS_ML_HTTP__HOST=0.0.0.0 \
    RMS_ML_HTTP__PORT=8080 \
    RMS_ML_LOG_FORMAT=json \
    RMS_ML_STORE_URL=sqlite:////var/lib/rms-ml-push/store.sqlite3 \
    RMS_ML_MODEL_DIR=/var/lib/rms-ml-push/models
RUN groupadd --system --gid 10001 rmsml \
    && useradd --system --uid 10001 --gid rmsml --home-dir /app --shell /usr/sbin/nologin rmsml \
    && mkdir -p /var/lib/rms-ml-push/models \
    && chown -R rmsml:rmsml /var/lib/rms-ml-push
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config/ ./config/
COPY jobs/ ./jobs/
USER rmsml:rmsml
VOLUME ["/var/lib/rms-ml-push"]
EXPOSE 8080
# No curl in the slim image: the standard library asks /health; any error exits non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('RMS_ML_HTTP__PORT', '8080') + '/health', timeout=4)"]
CMD ["rms-ml-push", "run"]
