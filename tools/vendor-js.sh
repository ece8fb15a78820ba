#!/usr/bin/env bash
# Copies the browser builds of the chat page's (and the admin's) JavaScript libraries from their npm packages into
# static/vendor/, with their licences. Run it to change a version; the copies are committed, so
# serving the page needs neither npm nor a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
    "markdown-it@15.0.3 dist/browser/markdown-it.umd.min.js"
    "dompurify@3.4.18 dist/purify.min.js"
    "vega@6.4.0 build/vega.min.js"
    "vega-lite@6.5.0 build/vega-lite.min.js"
    "vega-embed@7.3.0 build/vega-embed.min.js"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "${PACKAGES[@]}"; do
    read -r spec file <<<"$entry"
    name=${spec%@*}
    (cd "$work" && npm pack --silent "$spec" >/dev/null && mkdir "$name" && tar xzf "$name"-*.tgz -C "$name")
    mkdir -p "static/vendor/$name"
    # The source maps are not shipped, so their references go too (the static files manifest
    # would otherwise look for them).
    sed '/^\/\/# sourceMappingURL=/d' "$work/$name/package/$file" >"static/vendor/$name/$(basename "$file")"
    cp "$work/$name/package/LICENSE" "static/vendor/$name/LICENSE"
    echo "$spec" >"static/vendor/$name/VERSION"
done
echo "Vendored into static/vendor/: ${PACKAGES[*]%% *}"
