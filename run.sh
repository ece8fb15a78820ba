#!/usr/bin/env bash
# Set up and run the server, or the tests, on a fresh machine.
#   ./run.sh         create .venv, install, migrate, then serve (gunicorn + task worker) on HOST:PORT
#   ./run.sh test    the same set-up, then the test suite (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

install() {
    local requirements=$1 stamp="$VENV/.installed-$1"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    local digest
    digest=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$digest" >"$stamp"
    fi
}

first_env() {
    # A fresh clone gets its .env from .env.example, with a secret key of its own.
    [ -f .env ] && return
    local key
    key=$("$VENV/bin/python" -c "import secrets; print(secrets.token_urlsafe(50))")
    sed "s|^SECRET_KEY=.*|SECRET_KEY=$key|" .env.example >.env
    echo "Created .env from .env.example: set OPENAI_API_KEY there to talk to a model." >&2
}

serve() {
    install requirements.txt
    first_env
    local py="$VENV/bin/python"
    mkdir -p logs
    # Metrics from every process (web workers and the task worker) meet here; a fresh directory
    # for each start, as prometheus_client requires.
    export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/.metrics}
    rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    "$py" manage.py migrate --noinput
    "$py" manage.py check --database default
    "$py" manage.py collectstatic --noinput --verbosity 0
    "$py" manage.py worker &
    local worker=$!
    "$VENV/bin/gunicorn" --config gunicorn.conf.py &
    local web=$!
    stop() {
        trap - INT TERM
        kill -TERM "$web" "$worker" 2>/dev/null || true
        wait "$web" "$worker" 2>/dev/null || true
    }
    trap 'stop; exit 0' INT TERM
    # When either process ends, stop the other and end with its status.
    local status=0
    wait -n "$web" "$worker" || status=$?
    stop
    exit "$status"
}

browser() {
    # The browser tests drive Debian's Chromium (and need Korean fonts to show Hangul). Installed
    # here when absent and possible; otherwise those tests skip and say why.
    local fonts
    fonts=$(fc-list 2>/dev/null || true)
    command -v chromium >/dev/null && grep -qi "cjk" <<<"$fonts" && grep -qi "emoji" <<<"$fonts" && return
    command -v apt-get >/dev/null && [ "$(id -u)" -eq 0 ] || return 0
    echo "Installing Chromium and Korean fonts for the browser tests..." >&2
    { apt-get install -y -q chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null 2>&1; }; } \
        || echo "Could not install Chromium: the browser tests will be skipped." >&2
}

run_tests() {
    install requirements-dev.txt
    browser
    local status=0
    "$VENV/bin/python" -m pytest "$@" || status=$?
    # pytest's 5 means "no tests collected": a selection that matched nothing is not a failure.
    if [ "$status" -eq 5 ]; then status=0; fi
    return "$status"
}

case "${1:-serve}" in
    serve) serve ;;
    test) shift; run_tests "$@" ;;
    *) echo "usage: ./run.sh [test [pytest arguments]]" >&2; exit 2 ;;
esac
