#!/usr/bin/env bash
# The defence endpoints of the admin API on a real esimguard-smdpp over
# HTTPS, driven by `esimguard ... --url --token-file` and by curl: no token
# is 401; blocklist, stolen list, subscribers, lines (freeze/thaw), alerts,
# audit show/verify work and refuse bad input with a JSON error; every change
# (an order released from a pause included) is an admin_action event, and after the server stops `esimguard audit
# verify --db` passes on what the group-commit writer wrote. The admin token
# never reaches the log.
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }
cli=$1
apps="$(dirname "$(dirname "$cli")")"
server="$apps/esimguard-smdpp/esimguard-smdpp"
[ -x "$server" ] || { echo "missing $server"; exit 1; }
d=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$d/server.log" ] && tail -n 30 "$d/server.log"; exit 1; }

eid=89049032123451234512345678901235
iccid=89440000000000010001
"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
(umask 077; head -c 24 /dev/urandom | xxd -p -c 64 > "$d/admin.token"
 head -c 24 /dev/urandom | xxd -p -c 64 > "$d/operator.es2.token")
"$server" --pki "$d/pki" --db "$d/esimguard.db" --port 0 --port-file "$d/port" \
  --admin-token-file "$d/admin.token" --log-file "$d/server.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.1; done
[ -s "$d/port" ] || fail "server did not start"
url="https://localhost:$(cat "$d/port")"
api=(--url "$url" --token-file "$d/admin.token" --ca "$d/pki/nist/ci.pem")
c() { curl -sS --cacert "$d/pki/nist/ci.pem" -H "Authorization: Bearer $(cat "$d/admin.token")" "$@"; }

code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$d/pki/nist/ci.pem" "$url/admin/blocklist")
[ "$code" = 401 ] || fail "no token: HTTP $code"

# ---- blocklist through the CLI ----
"$cli" block add "${api[@]}" ip 192.0.2.9 --reason "spray" --ttl 600 >/dev/null || fail "block add via API"
"$cli" block list "${api[@]}" > "$d/list" || fail "block list via API"
grep -q "192.0.2.9" "$d/list" || fail "block list: $(cat "$d/list")"
grep -q "spray" "$d/list" || fail "block list lacks the reason"
c -X POST -d '{"kind":"planet","value":"mars"}' "$url/admin/blocklist" > "$d/bad"
grep -q '"bad_request"' "$d/bad" || fail "bad kind: $(cat "$d/bad")"
c -X POST -d '{"kind":"ip","value":"192.0.2.10","ttl_s":-5}' "$url/admin/blocklist" > "$d/bad"
grep -q "ttl_s" "$d/bad" || fail "negative ttl: $(cat "$d/bad")"
c -X POST -d 'not json' "$url/admin/blocklist" | has "JSON object" || fail "non-JSON body accepted"
"$cli" block remove "${api[@]}" ip 192.0.2.9 >/dev/null || fail "block remove via API"
code=$(c -o /dev/null -w '%{http_code}' -X DELETE "$url/admin/blocklist?kind=ip&value=192.0.2.9")
[ "$code" = 404 ] || fail "removing an absent block: HTTP $code"

# ---- stolen devices ----
"$cli" stolen add "${api[@]}" "$eid" --reason "stolen" >/dev/null || fail "stolen add via API"
"$cli" stolen list "${api[@]}" | has "$eid" || fail "stolen list via API"
c -X POST -d '{"eid":"123"}' "$url/admin/stolen" | has "32 digits" || fail "short EID accepted"
"$cli" stolen remove "${api[@]}" "$eid" >/dev/null || fail "stolen remove via API"

# ---- subscribers, lines ----
"$cli" subscriber add "${api[@]}" bob --email bob@example.org >/dev/null || fail "subscriber add via API"
code=$(c -o /dev/null -w '%{http_code}' -X POST -d '{"id":"bob"}' "$url/admin/subscribers")
[ "$code" = 409 ] || fail "duplicate subscriber: HTTP $code"
c -X POST -d '{"id":"eve","email":"not-an-address"}' "$url/admin/subscribers" | has "email" \
  || fail "bad email accepted"
"$cli" subscriber link "${api[@]}" bob "$iccid" --step-up >/dev/null || fail "link via API"
c -X POST -d '{"reason":"lost phone"}' "$url/admin/lines/$iccid/freeze" > "$d/freeze"
grep -q '"frozen":true' "$d/freeze" || fail "freeze: $(cat "$d/freeze")"
c -X POST "$url/admin/lines/$iccid/thaw" | has '"frozen":false' || fail "thaw"
code=$(c -o /dev/null -w '%{http_code}' -X POST "$url/admin/lines/12/freeze")
[ "$code" = 400 ] || fail "short ICCID: HTTP $code"
code=$(c -o /dev/null -w '%{http_code}' -X POST "$url/admin/orders/no-such-order/release")
[ "$code" = 404 ] || fail "release of an unknown order: HTTP $code"

# ---- order release: a paused order is unlocked (and audited) ----
echo "$url" > "$d/server-url"
echo op-defense > "$d/operator-id"
"$cli" order seed --var "$d" --profiles 1 --wait 10 > "$d/seed.out" || fail "order seed: $(cat "$d/seed.out")"
"$cli" order create --var "$d" > "$d/order.out" || fail "order create: $(cat "$d/order.out")"
order_id=$(sed -n 's/^order: *//p' "$d/order.out")
order_iccid=$(sed -n 's/^profile (ICCID): *//p' "$d/order.out")
[ -n "$order_id" ] || fail "no order id: $(cat "$d/order.out")"
# Paused as the risk engine pauses an order (another process on the same file).
sqlite3 "$d/esimguard.db" "UPDATE orders SET locked = 1, lock_reason = 'risk:cc_brute_force' WHERE order_id = '$order_id'"
c "$url/admin/orders/$order_id" | has '"locked":true' || fail "order not locked"
c -X POST "$url/admin/orders/$order_id/release" > "$d/release"
grep -q '"locked":false' "$d/release" || fail "release: $(cat "$d/release")"
c "$url/admin/orders/$order_id" | has '"locked":false' || fail "order still locked after release"

# ---- alerts and audit ----
"$cli" alerts list "${api[@]}" > "$d/alerts" || fail "alerts list via API: $(cat "$d/alerts")"
code=$(c -o /dev/null -w '%{http_code}' -X POST "$url/admin/alerts/nope/ack")
[ "$code" = 404 ] || fail "ack of an unknown alert: HTTP $code"
c "$url/admin/audit/verify" > "$d/verify"
grep -q '"ok":true' "$d/verify" || fail "audit verify via API: $(cat "$d/verify")"
c "$url/admin/audit?eid=$eid" > "$d/audit"
grep -q "stolen_add" "$d/audit" || fail "audit via API lacks stolen_add: $(cat "$d/audit")"
c "$url/admin/audit" | has "bad_request" || fail "audit without a key accepted"

kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" = 0 ] || fail "server exit status $rc"
"$cli" audit verify --db "$d/esimguard.db" > "$d/v" || fail "audit verify after stop: $(cat "$d/v")"
"$cli" audit show --db "$d/esimguard.db" --iccid "$iccid" > "$d/show"
grep -q "line_freeze" "$d/show" || fail "audit show lacks the freeze: $(cat "$d/show")"
grep -q "line_thaw" "$d/show" || fail "audit show lacks the thaw"
"$cli" audit show --db "$d/esimguard.db" --iccid "$order_iccid" | has "order_release" \
  || fail "audit show lacks the order release"
if grep -qF -- "$(cat "$d/admin.token")" "$d/server.log"; then fail "the admin token is in the log"; fi
echo "PASS"
