"""
The web container's health check (compose.yaml): GET /api/v1/health on the server's own port, under
a host name the server answers to, and exit 0 only on 200. What the server answered is printed, so
`docker inspect` shows which check failed (database, provider or worker).
"""

import os
import sys
import urllib.error
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # this server's answer, not that of wherever it points


def allowed_host() -> str:
    """The first entry of ALLOWED_HOSTS usable as a Host header (".example.com": example.com)."""
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"  # allowed when ALLOWED_HOSTS is empty or "*"


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8010')}/api/v1/health"
    # X-Forwarded-Proto as nginx sends it (trusted: SECURE_PROXY_SSL_HEADER), so that with DEBUG
    # false the probe is taken for HTTPS, as every proxied request is, and is never redirected.
    request = urllib.request.Request(
        url, headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:  # 503 names the failing checks in its body
        status, body = error.code, error.read()
    except OSError as error:  # not listening (yet)
        print(f"{url}: {error}")
        return 1
    print(status, body.decode(errors="replace"))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
