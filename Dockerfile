# jobs-bot as a container (README "Deploy with containers"). Two stages: the first builds the
# wheel and installs it into a virtualenv, the second copies only that virtualenv onto a clean
# slim image, so pip's build backends and caches never reach the image that runs.
# Product dependencies only: the `demo` extra (the local Slack/Databricks sandbox) and `dev`
# (tests, lint) are not installed.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Every wheel jobs-bot depends on ships binaries for linux amd64/arm64 (duckdb, pyarrow,
# psycopg[binary], matplotlib), so no compiler is needed even here.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY sandbox ./sandbox
COPY queries ./queries
COPY templates ./templates
RUN python -m venv /opt/jobs-bot \
 && /opt/jobs-bot/bin/pip install --no-compile . \
 && /opt/jobs-bot/bin/python -m compileall -q /opt/jobs-bot/lib

FROM python:${PYTHON_VERSION}-slim
# A fixed, unprivileged uid: Kubernetes' runAsNonRoot can check it, and file ownership on a
# mounted volume is predictable.
RUN groupadd --system --gid 10001 jobsbot \
 && useradd --system --uid 10001 --gid jobsbot --home-dir /home/jobsbot --create-home jobsbot
COPY --from=build /opt/jobs-bot /opt/jobs-bot
# `jobs-bot doctor` compares the token's scopes with the manifest in the working directory.
COPY manifest.yml /app/manifest.yml
ENV PATH=/opt/jobs-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
USER 10001:10001
# The health server (monitoring.health_port in the config): /healthz, /readyz, /metrics.
EXPOSE 9090
# The config is mounted here; secrets come from the environment, never from the image.
ENTRYPOINT ["jobs-bot"]
CMD ["run", "--config", "/etc/jobs-bot/jobs-bot.yml"]
