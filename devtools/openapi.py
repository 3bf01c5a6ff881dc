"""Export each service's OpenAPI document without running anything: bootstrap the FastAPI app in-process on
throwaway SQLite settings (nothing connects to Kafka at bootstrap) and call `app.openapi()`.

    python -m devtools.openapi --out var/openapi            # one <service>.json per service
    python -m devtools.openapi --out var/openapi customer   # only the named services

The console's typed clients (`web/src/api/<service>.d.ts`) are generated from these documents by
`make web-clients` (openapi-typescript); `make test` regenerates them into a temporary directory and fails
when the committed ones differ, so a contract change breaks the build, not the user.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from shared.events import topics
from shared.runtime.settings import ONE_DATABASE_SERVICES, AuthSettings, ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
SERVICES: tuple[str, ...] = tuple(s for s in topics.SERVICES if (ROOT / "services" / s / "__main__.py").exists())


def _app_of(container: Any) -> FastAPI:
    """Each service's container exposes its app as an attribute, a property or a method."""
    api = container.api
    app = api() if callable(api) and not isinstance(api, FastAPI) else api
    if not isinstance(app, FastAPI):
        raise TypeError(f"{type(container).__name__}.api is not a FastAPI app")
    return app


@contextlib.contextmanager
def _container(service: str, tmp: Path) -> Iterator[Any]:
    settings_mod = importlib.import_module(f"services.{service}.settings")
    bootstrap_mod = importlib.import_module(f"services.{service}.bootstrap")
    # the settings class the module defines (not the kit's bases it imports, e.g. OneDatabaseSettings)
    (settings_cls,) = {v for v in vars(settings_mod).values()
                       if isinstance(v, type) and issubclass(v, ServiceSettings) and v.__module__ == settings_mod.__name__}
    stores = {} if service in ONE_DATABASE_SERVICES else {"eventstore_url": f"sqlite:///{tmp / f'{service}-eventstore.db'}"}
    settings = settings_cls(
        database_url=f"sqlite:///{tmp / f'{service}-readmodel.db'}",
        auth=AuthSettings(jwt_secret="openapi-export-only"),
        **stores,
    )
    bootstrap: Callable[..., Any] = bootstrap_mod.bootstrap
    container = bootstrap(settings)
    try:
        yield container
    finally:
        engine = getattr(container, "engine", None)
        if engine is not None:
            engine.dispose()
        app = getattr(container, "app", None)
        if app is not None and hasattr(app, "close"):
            app.close()


def openapi_document(service: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"openapi-{service}-") as tmp, _container(service, Path(tmp)) as c:
        return _app_of(c).openapi()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "var" / "openapi")
    p.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(SERVICES)} (default: all)")
    args = p.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        p.error(f"unknown service(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for service in args.services or SERVICES:
        doc = openapi_document(service)
        (args.out / f"{service}.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        sys.stdout.write(f"{args.out / f'{service}.json'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
