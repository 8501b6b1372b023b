# Sourced by test.sh: the PostgreSQL store's tests run against a real server. They start a
# throwaway one themselves (initdb + pg_ctl in a temporary directory, as the `postgres` user
# when run as root), so the server programs must be installed: Debian's `postgresql`
# package puts them in /usr/lib/postgresql/<version>/bin (and creates the `postgres` user).
# Installs it when missing (as root, or with sudo). SIGNET_TEST_POSTGRES_URL (a server to
# use instead) needs no installation; SIGNET_SKIP_POSTGRES=1 lets the tests skip instead.
if [ "${SIGNET_SKIP_POSTGRES:-}" != "1" ] && [ -z "${SIGNET_TEST_POSTGRES_URL:-}" ]; then
  if ! { command -v initdb >/dev/null && command -v pg_ctl >/dev/null; } \
    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if command -v apt-get >/dev/null; then
      sudo=""
      if [ "$(id -u)" != "0" ]; then
        if command -v sudo >/dev/null; then sudo="sudo"; else
          echo "The PostgreSQL store's tests need PostgreSQL: install it (apt-get install postgresql), set SIGNET_TEST_POSTGRES_URL, or set SIGNET_SKIP_POSTGRES=1." >&2
          exit 1
        fi
      fi
      echo "Installing postgresql for the PostgreSQL store's tests..." >&2
      $sudo apt-get update -qq
      # policy-rc.d 101: the package must not start Debian's own cluster service (the
      # tests start their own server; a container has no init to run it anyway).
      if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        $sudo rm -f /usr/sbin/policy-rc.d
      else
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
      fi
    else
      echo "The PostgreSQL store's tests need PostgreSQL's initdb and pg_ctl (or SIGNET_TEST_POSTGRES_URL), or SIGNET_SKIP_POSTGRES=1." >&2
      exit 1
    fi
  fi
fi
