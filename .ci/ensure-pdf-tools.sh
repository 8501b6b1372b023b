# Sourced by test.sh: the PDF tests validate signed PDFs with tools nobody here wrote —
# pyHanko (`pyhanko sign validate`), poppler's `pdfsig` (and NSS's `certutil` to give it a
# trust store), `qpdf --check` and `openssl`; a seal with a Chinese name is drawn from Noto
# Sans CJK. Installs them when missing: poppler-utils, libnss3-tools, qpdf, openssl and
# fonts-noto-cjk from Debian, pyHanko from PyPI into a virtual environment under
# target/pyhanko (PATH is extended). With the tools present the tests must use them
# (SIGNET_REQUIRE_PDF_TOOLS=1); SIGNET_SKIP_PDF_TOOLS=1 lets them skip instead.
if [ "${SIGNET_SKIP_PDF_TOOLS:-}" != "1" ]; then
  sudo=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if ! command -v pdfsig >/dev/null || ! command -v qpdf >/dev/null || ! command -v certutil >/dev/null \
    || ! command -v openssl >/dev/null || [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
    if command -v apt-get >/dev/null; then
      echo "Installing poppler-utils, libnss3-tools, qpdf, openssl and fonts-noto-cjk for the PDF tests..." >&2
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        poppler-utils libnss3-tools qpdf openssl fonts-noto-cjk >/dev/null
    else
      echo "The PDF tests need pdfsig (poppler-utils), certutil (libnss3-tools), qpdf, openssl and fonts-noto-cjk, or SIGNET_SKIP_PDF_TOOLS=1." >&2
      exit 1
    fi
  fi
  if ! command -v pyhanko >/dev/null; then
    venv="$PWD/target/pyhanko"
    if [ ! -x "$venv/bin/pyhanko" ]; then
      echo "Installing pyHanko into $venv for the PDF tests..." >&2
      if ! python3 -m venv "$venv" 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null
        python3 -m venv "$venv"
      fi
      "$venv/bin/pip" install --quiet --disable-pip-version-check pyhanko-cli
    fi
    export PATH="$venv/bin:$PATH"
  fi
  export SIGNET_REQUIRE_PDF_TOOLS=1
fi
