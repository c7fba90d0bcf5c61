#!/usr/bin/env bash
# Revocation reaches the running SM-DP+ both ways an operator publishes it:
# a CRL added with `esimguard pki crl add` before the start, and a newer CRL
# fetched from a configured distribution point (a plain HTTP server on
# loopback). Three eUICCs of the same EUM: the one revoked by the stored CRL
# and the one revoked only by the fetched CRL are refused at
# authenticateClient with 8.1.3 (eUICC certificate) naming the revocation;
# the third, never revoked, downloads, which shows the refusals come from the
# CRLs and not from the set-up.
set -euo pipefail
cli=$1
apps="$(dirname "$(dirname "$cli")")"
server="$apps/esimguard-smdpp/esimguard-smdpp"
lpa="$apps/esimguard-lpa/esimguard-lpa"
for b in "$server" "$lpa"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
d=$(mktemp -d)
pid=
http_pid=
cleanup() {
  for p in "$pid" "$http_pid"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -KILL "$p"; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$d/server.log" ] && tail -n 30 "$d/server.log"; exit 1; }

stored_eid=89049032123451234512345678901235
fetched_eid=89049032123451234512345678901332
good_eid=89049032123451234512345678901429
"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
for e in "$stored_eid" "$fetched_eid" "$good_eid"; do
  "$cli" pki issue-euicc --dir "$d/pki" --curve nist --eid "$e" >/dev/null
done
cert() { echo "$d/pki/nist/euicc/$1.pem"; }

# The stored CRL revokes one card; the published one (newer) revokes both.
"$cli" pki crl issue --dir "$d/pki" --curve nist --issuer eum --number 1 \
  --revoke "$(cert "$stored_eid")" --out "$d/stored.crl.pem" >/dev/null
"$cli" pki crl add --dir "$d/pki" "$d/stored.crl.pem" > "$d/add.out" || fail "crl add: $(cat "$d/add.out")"
mkdir "$d/www"
"$cli" pki crl issue --dir "$d/pki" --curve nist --issuer eum --number 2 \
  --revoke "$(cert "$stored_eid")" "$(cert "$fetched_eid")" --out "$d/www/eum.crl" >/dev/null

python3 -m http.server 0 --bind 127.0.0.1 --directory "$d/www" > "$d/http.log" 2>&1 &
http_pid=$!
http_port=
for _ in $(seq 1 100); do
  http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$d/http.log" | head -n1)
  [ -n "$http_port" ] && break
  sleep 0.1
done
[ -n "$http_port" ] || fail "the CRL web server did not start: $(cat "$d/http.log")"

(umask 077; head -c 24 /dev/urandom | xxd -p -c 64 > "$d/admin.token"
 head -c 24 /dev/urandom | xxd -p -c 64 > "$d/operator.es2.token")
echo op-crl > "$d/operator-id"
cat > "$d/smdpp.toml" <<EOF
[smdp]
crl_urls = ["http://127.0.0.1:$http_port/eum.crl"]
EOF

"$server" -c "$d/smdpp.toml" --pki "$d/pki" --db "$d/esimguard.db" --port 0 --port-file "$d/port" \
  --admin-token-file "$d/admin.token" --log-file "$d/server.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.1; done
[ -s "$d/port" ] || fail "server did not start"
echo "https://localhost:$(cat "$d/port")" > "$d/server-url"
grep -q "1 stored CRL(s) loaded" "$d/server.log" || fail "the stored CRL was not loaded"
grep -q "CRL refresh: 1 fetched, 1 stored, 0 failed" "$d/server.log" || fail "the CRL was not fetched"

"$cli" order seed --var "$d" --profiles 3 --wait 10 > "$d/seed.out" || fail "order seed: $(cat "$d/seed.out")"
download() { # EID → exit status of the LPA; output in $d/<EID>.out
  "$cli" order create --var "$d" --eid "$1" > "$d/order-$1.out" || fail "order create"
  local ac cc
  ac=$(sed -n 's/^activation code: *//p' "$d/order-$1.out")
  cc=$(sed -n 's/^confirmation code: *//p' "$d/order-$1.out")
  "$lpa" --sim-state "$d/card-$1.json" --pki "$d/pki" --eid "$1" --curve nist \
    --ca "$d/pki/nist/ci.pem" profile download -a "$ac" -c "$cc" > "$d/$1.out" 2>&1
}
for e in "$stored_eid" "$fetched_eid"; do
  if download "$e"; then fail "revoked eUICC $e downloaded"; fi
  grep -q "8.1.3" "$d/$e.out" || fail "$e not refused with 8.1.3: $(cat "$d/$e.out")"
  grep -qi "revoked" "$d/$e.out" || fail "$e refusal does not say revoked: $(cat "$d/$e.out")"
done
download "$good_eid" || fail "the unrevoked eUICC was refused: $(cat "$d/$good_eid.out")"

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "server exit status $rc"
echo "CRL revocation (stored and fetched): ok"
