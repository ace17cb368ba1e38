#!/bin/sh
# Refreshes the front-end libraries kept under static/vendor, at the
# versions pinned below, from the npm registry. The console embeds them as
# they are: nothing is built, and kumod fetches nothing at run time.
set -eu
XTERM=6.0.0
XTERM_FIT=0.11.0

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@xterm/xterm@$XTERM" "@xterm/addon-fit@$XTERM_FIT" >/dev/null)
for pkg in "$tmp"/*.tgz; do
	mkdir "${pkg%.tgz}"
	tar xzf "$pkg" -C "${pkg%.tgz}" --strip-components=1
done
out=static/vendor/xterm
rm -rf "$out"
mkdir -p "$out"
cp "$tmp/xterm-xterm-$XTERM/lib/xterm.mjs" "$tmp/xterm-xterm-$XTERM/css/xterm.css" \
	"$tmp/xterm-xterm-$XTERM/LICENSE" "$tmp/xterm-addon-fit-$XTERM_FIT/lib/addon-fit.mjs" "$out/"
# The source maps are not kept.
sed -i '/sourceMappingURL=/d' "$out"/*.mjs
echo "xterm.js $XTERM and its fit add-on $XTERM_FIT are in $out"
