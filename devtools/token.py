"""Mint development tokens (the frontend gateway issues the real ones).

    python -m devtools.token --role manager --user M-001 --team T-HK
    python -m devtools.token --role admin
Uses AUTH_JWT_SECRET (HS256). For RS256 pass --private-key PEM_FILE with AUTH_JWT_ALGORITHM=RS256.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.runtime.auth import ROLES, mint_token
from shared.runtime.settings import AuthSettings

DEV_SECRET = "whale-dev-secret-change-me-0123456789abcdef"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--role", required=True, choices=sorted(ROLES))
    p.add_argument("--user", default=None, help="user id (a manager's id for managers)")
    p.add_argument("--team", default=None, help="team id (for managers and team leads)")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    p.add_argument("--private-key", type=Path, default=None)
    args = p.parse_args(argv)
    settings = AuthSettings()
    if settings.jwt_algorithm == "HS256" and settings.jwt_secret is None:
        settings = AuthSettings(jwt_secret=DEV_SECRET)
    token = mint_token(settings, user_id=args.user or f"dev-{args.role}", role=args.role, team_id=args.team,
                       ttl_seconds=args.ttl,
                       private_key=args.private_key.read_text() if args.private_key else None)
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
