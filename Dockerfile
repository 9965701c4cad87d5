# syntax=docker/dockerfile:1
# Production image of the portal: the same image runs the web app, the Celery worker and beat
# (see docker-compose.yml). Build with `docker compose build`.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:22-slim

# --- assets: browser libraries from npm (package.json), as `make assets` does ---------------------
FROM ${NODE_IMAGE} AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- build: compile the Python dependencies into a virtual environment -------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libffi-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/portal
ENV PATH=/opt/portal/bin:$PATH
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY app ./app
COPY storage ./storage
COPY signing ./signing
COPY ocr ./ocr
COPY workflows ./workflows
COPY previews ./previews
RUN pip install .

# --- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/portal/bin:$PATH \
    PYTHONPATH=/srv/portal \
    PORTAL_DATA_DIR=/data \
    OMP_THREAD_LIMIT=1
# OCR (tesseract with Spanish and English), the PDF tools OCRmyPDF and the signing checks use,
# and ffmpeg for the poster frames of uploaded videos.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng ghostscript qpdf poppler-utils ffmpeg \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 1000 portal \
 && useradd --system --uid 1000 --gid portal --home-dir /srv/portal --shell /usr/sbin/nologin portal \
 && mkdir -p /data \
 && chown portal:portal /data
COPY --from=build /opt/portal /opt/portal
WORKDIR /srv/portal
# The app finds its templates, migrations and translations next to the `app` package, so it runs
# from this source tree (PYTHONPATH above) rather than from the copy installed in site-packages.
COPY app ./app
COPY storage ./storage
COPY signing ./signing
COPY ocr ./ocr
COPY workflows ./workflows
COPY previews ./previews
COPY templates ./templates
COPY setup.cfg pyproject.toml babel.cfg ./
COPY --from=assets /assets/node_modules/pdfjs-dist/build/pdf.min.mjs \
     /assets/node_modules/pdfjs-dist/build/pdf.worker.min.mjs \
     app/static/vendor/pdfjs/
RUN pybabel compile -d app/translations \
 && python -m compileall -q app storage signing ocr workflows previews \
 && python -m app.cli compress-assets
USER portal
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# The web app on gunicorn as `portal run` serves it (app/server.py); see docker-compose.yml.
CMD ["sh", "-c", "portal init && exec python -m app.server --host=0.0.0.0 --port=8000 --workers=2 --threads=8"]
