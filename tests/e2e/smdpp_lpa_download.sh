#!/usr/bin/env bash
# Three programs over real HTTPS: esimguard-smdpp serves a directory laid out
# as `make run` lays out ./var; `esimguard order seed/create/show` stock it and
# order a profile bound to an EID; esimguard-lpa (simulated eUICC in process)
# downloads with the confirmation code and enables the profile; the order's
# history shows installed and enabled. On a second order a wrong confirmation
# code is refused with 8.2.7 and counted.
# The server's debug log holds neither code nor the matching ID.
set -euo pipefail
cli=$1
apps="$(dirname "$(dirname "$cli")")"
server="$apps/esimguard-smdpp/esimguard-smdpp"
lpa="$apps/esimguard-lpa/esimguard-lpa"
for b in "$server" "$lpa"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
d=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$d/server.log" ] && grep -v DBG "$d/server.log" | tail -n 30; exit 1; }

eid=89049032123451234512345678901235
"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
"$cli" pki issue-euicc --dir "$d/pki" --curve nist --eid "$eid" >/dev/null
(umask 077; head -c 24 /dev/urandom | xxd -p -c 64 > "$d/admin.token"
 head -c 24 /dev/urandom | xxd -p -c 64 > "$d/operator.es2.token")
echo op-e2e > "$d/operator-id"

"$server" --pki "$d/pki" --db "$d/esimguard.db" --port 0 --port-file "$d/port" \
  --admin-token-file "$d/admin.token" --log-level debug --log-file "$d/server.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.1; done
[ -s "$d/port" ] || fail "server did not start"
port=$(cat "$d/port")
echo "https://localhost:$port" > "$d/server-url"

"$cli" order seed --var "$d" --profiles 1 --wait 10 > "$d/seed.out" || fail "order seed: $(cat "$d/seed.out")"
grep -q "registered operator op-e2e" "$d/seed.out" || fail "seed: $(cat "$d/seed.out")"
"$cli" order create --var "$d" --eid "$eid" > "$d/order.out" || fail "order create"
ac=$(sed -n 's/^activation code: *//p' "$d/order.out")
cc=$(sed -n 's/^confirmation code: *//p' "$d/order.out")
order_id=$(sed -n 's/^order: *//p' "$d/order.out")
iccid=$(sed -n 's/^profile (ICCID): *//p' "$d/order.out")
qr=$(sed -n 's/^QR image: *//p' "$d/order.out")
[[ "$cc" =~ ^[0-9]{8}$ ]] || fail "confirmation code: $(cat "$d/order.out")"
[ -s "$qr" ] || fail "no QR image at $qr"
mid=$(echo "$ac" | cut -d'$' -f3)

lpa_run() { "$lpa" --sim-state "$d/card.json" --pki "$d/pki" --eid "$eid" --curve nist \
              --ca "$d/pki/nist/ci.pem" --log-level debug "$@"; }
lpa_run profile download -a "$ac" -c "$cc" > "$d/dl.out" 2> "$d/dl.err" \
  || fail "download: $(cat "$d/dl.out" "$d/dl.err")"
lpa_run profile enable "$iccid" > "$d/en.out" 2> "$d/en.err" || fail "enable: $(cat "$d/en.out" "$d/en.err")"

"$cli" order show --var "$d" "$order_id" > "$d/show.out" || fail "order show"
grep -q '^state: *enabled' "$d/show.out" || fail "order not enabled: $(cat "$d/show.out")"
grep -q 'installed' "$d/show.out" || fail "history lacks installed: $(cat "$d/show.out")"

# A second order: a wrong confirmation code is refused (8.2.7) and counted.
"$cli" order create --var "$d" > "$d/order2.out" || fail "second order create"
ac2=$(sed -n 's/^activation code: *//p' "$d/order2.out")
order2=$(sed -n 's/^order: *//p' "$d/order2.out")
if lpa_run profile download -a "$ac2" -c 00000000 > "$d/wrong.out" 2> "$d/wrong.err"; then
  fail "a wrong confirmation code was accepted"
fi
grep -q "8.2.7" "$d/wrong.out" "$d/wrong.err" || fail "wrong code not refused with 8.2.7: $(cat "$d/wrong.out" "$d/wrong.err")"
"$cli" order show --var "$d" "$order2" > "$d/show2.out" || fail "order show 2"
grep -q 'wrong codes: 1/3' "$d/show2.out" || fail "wrong code not counted: $(cat "$d/show2.out")"

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "server exit status $rc"
for s in "$cc" "$mid" "$(cat "$d/admin.token")" "$(cat "$d/operator.es2.token")"; do
  for l in "$d/server.log" "$d/dl.err" "$d/en.err" "$d/wrong.err"; do
    if grep -qF -- "$s" "$l"; then fail "a secret is in $(basename "$l")"; fi
  done
done
echo "smdpp + lpa download: ok"
