#!/bin/sh
# Fails if the committed bundle of the web page, internal/web/static/app.js,
# is not what "npm run build:web" makes of js/src/web now: the Go binary
# embeds the committed file, so it must not lag behind its source.
set -eu
cd "$(dirname "$0")/.."
committed=../internal/web/static/app.js
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# The same build as the build:web script, into the temporary directory
# (esbuild takes the last --outfile).
npm run --silent build:web -- --outfile="$tmp/app.js" --log-level=warning
if ! cmp -s "$tmp/app.js" "$committed"; then
	echo "check-web-bundle: internal/web/static/app.js differs from a fresh build of js/src/web." >&2
	echo "check-web-bundle: run \"npm run build:web\" in js/ and commit internal/web/static/app.js." >&2
	exit 1
fi
