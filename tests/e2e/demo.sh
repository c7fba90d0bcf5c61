#!/usr/bin/env bash
# esimguard demo: the whole chain in one process exits 0, prints the
# activation code and confirmation code, writes a PNG QR image, and shows the
# order's history through installed and enabled; on both curves.
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }
cli=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; cat "$d/out" "$d/err" 2>/dev/null | tail -n 60; exit 1; }

rc=0
timeout 300 "$cli" demo --qr "$d/ac.png" --log-file "$d/demo.log" >"$d/out" 2>"$d/err" || rc=$?
[ "$rc" = 0 ] || fail "demo exited with $rc"
grep -Eq '^  activation code: +LPA:1\$localhost:[0-9]+\$[A-Za-z0-9-]+\$\$1$' "$d/out" || fail "no activation code"
grep -Eq '^  confirmation code: +[0-9]{8}$' "$d/out" || fail "no confirmation code"
head -c 8 "$d/ac.png" | xxd -p | has -x 89504e470d0a1a0a || fail "QR image is not a PNG"
# The history section lists the lifecycle up to installed and enabled.
sed -n '/history of order/,$p' "$d/out" > "$d/history"
grep -qw installed "$d/history" || fail "history lacks installed"
grep -qw enabled "$d/history" || fail "history lacks enabled"
grep -q '^\[smdp\] order state: enabled$' "$d/out" || fail "final state not enabled"
grep -q '^demo complete' "$d/out" || fail "no completion line"
# A temp dir of its own, removed afterwards.
dir=$(sed -n 's/^\[pki\] generating a test PKI (nist) in \(.*\)\/pki$/\1/p' "$d/out")
[ -n "$dir" ] || fail "work dir not printed"
[ ! -e "$dir" ] || fail "work dir $dir left behind"
# The other curve: brainpoolP256r1 eUICC and SM-DP+ credentials.
rc=0
timeout 300 "$cli" demo --curve brainpool --log-file "$d/demo-bp.log" >"$d/out" 2>"$d/err" || rc=$?
[ "$rc" = 0 ] || fail "brainpool demo exited with $rc"
grep -q '^\[smdp\] order state: enabled$' "$d/out" || fail "brainpool: final state not enabled"
echo "demo: ok"
