# syntax=docker/dockerfile:1
# One image for every Whale CRM service. Run one process per container:
#   python -m services.<customer|assignment|tasks|summary|kyc> <api|worker|migrate>
# e.g. `docker run IMAGE services.kyc worker` (ENTRYPOINT is `python -m`). Kubernetes sets command/args.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: resolve and install into a self-contained virtualenv --------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that a source-only change reuses this layer.
# (Every runtime dependency ships manylinux wheels for CPython 3.11: no compiler is needed.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --upgrade pip setuptools \
    && pip install -r /tmp/requirements.txt

# The project itself (a regular, non-editable install: the runtime image carries no source tree).
COPY . .
RUN pip install --no-deps . \
    && python -m compileall -q /opt/venv/lib \
    && pip uninstall -y pip setuptools

# ---- runtime: the venv and nothing else of the build ------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# The user exists at build time only for tools that look up names; at run time nothing needs a shell
# or a home directory (HOME points at the /tmp emptyDir in Kubernetes).
RUN groupadd --system --gid 10001 whale \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin whale
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000 8001
ENTRYPOINT ["python", "-m"]
CMD ["services.customer", "api"]
