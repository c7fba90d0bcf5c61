#!/usr/bin/env bash
# Secrets never reach a log. (1) The demo (SM-DP+, LPA, eUICC in one process)
# runs at debug level with its logs in a file; (2) esimguard-smdpp serves
# admin calls at debug level. Then every log is searched for the confirmation
# code, the matching ID, the admin and ES2+ tokens, and the private keys
# (DPauth, DPpb, DPtls, eUICC): each PEM body line and the key's hex.
# The demo's stdout, which shows the codes to the user on purpose, is not a log.
set -euo pipefail
cli=$1
server="$(dirname "$(dirname "$cli")")/esimguard-smdpp/esimguard-smdpp"
[ -x "$server" ] || { echo "missing $server"; exit 1; }
d=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
secrets="$d/secrets"
: > "$secrets"
add_key_secrets() { # PEM key file → its body lines and private scalar hex
  local f=$1
  grep -v -- '-----' "$f" | awk 'length($0) >= 16' >> "$secrets"
  openssl pkey -in "$f" -noout -text 2>/dev/null \
    | awk '/^priv:/{p=1;next} /^pub:/{p=0} p' | tr -d ' :\n' > "$d/hex"
  local hex; hex=$(cat "$d/hex")
  [ ${#hex} -ge 60 ] || fail "no private scalar read from $f"
  # Leading zero bytes may be dropped elsewhere: search the last 31 bytes.
  echo "${hex: -62}" >> "$secrets"
}

# --- (1) the demo ------------------------------------------------------------------
"$cli" demo --dir "$d/demo" --log-level debug --log-file "$d/demo.log" >"$d/demo.out" 2>"$d/demo.err" \
  || { cat "$d/demo.out" "$d/demo.err"; fail "demo failed"; }
ac=$(sed -n 's/^  activation code: *//p' "$d/demo.out")
cc=$(sed -n 's/^  confirmation code: *//p' "$d/demo.out")
mid=$(echo "$ac" | cut -d'$' -f3)
[ ${#mid} -ge 20 ] || fail "matching ID not found in '$ac'"
[ ${#cc} -ge 8 ] || fail "confirmation code not found"
echo "$cc" >> "$secrets"
echo "$mid" >> "$secrets"
for k in "$d"/demo/pki/nist/dpauth.key.pem "$d"/demo/pki/nist/dppb.key.pem \
         "$d"/demo/pki/nist/dptls.key.pem "$d"/demo/pki/nist/euicc/*.key.pem; do
  [ -f "$k" ] || fail "missing key $k"
  add_key_secrets "$k"
done
# The check must be able to see: a debug-level run logs plenty.
[ "$(wc -l < "$d/demo.log")" -ge 20 ] || fail "the demo log is nearly empty: the test would prove nothing"

# --- (2) the server's admin API at debug level ---------------------------------
"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
admin_token="admin-$(head -c 16 /dev/urandom | xxd -p)"
es2_token="es2-$(head -c 16 /dev/urandom | xxd -p)"
(umask 077; echo "$admin_token" > "$d/admin.token")
"$server" --pki "$d/pki" --db "$d/s.db" --port 0 --port-file "$d/port" \
  --admin-token-file "$d/admin.token" --log-level debug --log-file "$d/server.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.1; done
[ -s "$d/port" ] || fail "server did not start"
base="https://localhost:$(cat "$d/port")"
c() { curl -sS --max-time 10 --cacert "$d/pki/nist/ci.pem" -H "Authorization: Bearer $admin_token" \
        -H 'Content-Type: application/json' "$@"; }
for _ in $(seq 1 50); do [ "$(c "$base/healthz" 2>/dev/null)" = ok ] && break; sleep 0.1; done
c -X POST "$base/admin/operators" -d "{\"id\":\"op\",\"es2_token\":\"$es2_token\"}" >/dev/null
"$cli" profile make --iccid 8949449999999990049 --imsi 001010000000049 --out "$d/p.der" >/dev/null
c -X POST "$base/admin/profiles" -d "{\"operator\":\"op\",\"package\":\"$(base64 -w0 "$d/p.der")\"}" >/dev/null
c -X POST "$base/admin/orders" -d '{"operator":"op","iccid":"8949449999999990049"}' > "$d/order.json"
scc=$(sed -n 's/.*"confirmation_code":"\([0-9]*\)".*/\1/p' "$d/order.json")
smid=$(sed -n 's/.*"matching_id":"\([^"]*\)".*/\1/p' "$d/order.json")
[ -n "$scc" ] && [ -n "$smid" ] || fail "order answer: $(cat "$d/order.json")"
printf '%s\n' "$scc" "$smid" "$admin_token" "$es2_token" >> "$secrets"
for k in "$d"/pki/nist/dpauth.key.pem "$d"/pki/nist/dppb.key.pem "$d"/pki/nist/dptls.key.pem; do
  add_key_secrets "$k"
done
kill -TERM "$pid"; wait "$pid" || true; pid=

# --- the search ----------------------------------------------------------------------
logs=("$d/demo.log" "$d/demo.err" "$d/server.log")
n=0
while IFS= read -r s; do
  [ -n "$s" ] || continue
  n=$((n + 1))
  for l in "${logs[@]}"; do
    if grep -qiF -- "$s" "$l"; then
      fail "secret #$n found in $(basename "$l"): $(grep -iF -m1 -- "$s" "$l" | cut -c1-200)"
    fi
  done
done < "$secrets"
[ "$n" -ge 20 ] || fail "only $n secrets to look for"
echo "log secrets: ok ($n secrets, none in ${#logs[@]} logs)"
