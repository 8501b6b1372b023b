# Sourced by test.sh: the console's browser test needs Chromium and its WebDriver. Installs
# Debian's `chromium` and `chromium-driver` when they are missing (as root, or with sudo).
# SIGNET_SKIP_BROWSER=1 skips the browser test instead.
if [ "${SIGNET_SKIP_BROWSER:-}" != "1" ] && ! { command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; }; then
  if command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" != "0" ]; then
      if command -v sudo >/dev/null; then sudo="sudo"; else
        echo "The browser test needs chromium and chromium-driver: install them (apt-get install chromium chromium-driver) or set SIGNET_SKIP_BROWSER=1." >&2
        exit 1
      fi
    fi
    echo "Installing chromium and chromium-driver for the console's browser test..." >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  else
    echo "The browser test needs Chromium and chromedriver (set SIGNET_CHROMIUM and SIGNET_CHROMEDRIVER if they are elsewhere), or SIGNET_SKIP_BROWSER=1." >&2
    exit 1
  fi
fi
