#!/usr/bin/env bash
# System packages and Node dependencies of the web console, installed when missing.
#   infra/web.sh nginx      # Debian's nginx (the gateway of `make run` and the end-to-end tests)
#   infra/web.sh chromium   # Debian's chromium (driven by playwright-core; browsers are not downloaded)
#   infra/web.sh npm        # web/node_modules from the committed lock file (npm ci) when missing or stale
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

apt_install() {
  echo "web.sh: installing $* (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # a package's postinst must not start a system service (nginx on port 80): deny it for this install only
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1; fi
  trap '[ "$added" = 1 ] && rm -f "$policy"' RETURN
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}

case "${1:-}" in
  nginx)
    if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then apt_install nginx; fi
    # the package's own service is not ours to run: the gateway is a user process with its own config
    command -v nginx || echo /usr/sbin/nginx ;;
  chromium)
    [ -x /usr/bin/chromium ] || apt_install chromium fonts-noto-cjk
    echo /usr/bin/chromium ;;
  npm)
    cd "$ROOT/web"
    stamp=node_modules/.lock-$(md5sum package-lock.json | cut -c1-12)
    if [ ! -f "$stamp" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      rm -f node_modules/.lock-* && touch "$stamp"
    fi ;;
  *) echo "usage: infra/web.sh nginx|chromium|npm" >&2; exit 2 ;;
esac
