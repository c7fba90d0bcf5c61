#!/usr/bin/env bash
# esimguard-smdpp as a whole program: a temp PKI and config, a kernel-chosen
# port; /healthz, /metrics in the Prometheus text format, the admin API (token
# required, operator → profile → order → history), an ES9+ call with a bad
# Content-Type answered 200 + Failed 1.2.1/2.1, config errors refused, and
# SIGTERM → a clean exit 0.
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }
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
fail() { echo "FAIL: $*"; [ -f "$d/server.log" ] && tail -n 30 "$d/server.log"; exit 1; }
# A top-level or nested string field of a compact JSON answer (no jq needed).
jstr() { sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1; }

"$cli" pki init --dir "$d/pki" --curve nist --host localhost >/dev/null
(umask 077; echo "admin-token-$(head -c 16 /dev/urandom | xxd -p)" > "$d/admin.token")
token=$(cat "$d/admin.token")
cat > "$d/smdpp.toml" <<EOF
[server]
port = 0
port_file = "$d/port"
worker_threads = 2
[smdp]
pki_dir = "$d/pki"
[store]
path = "$d/esimguard.db"
[admin]
token_file = "$d/admin.token"
[housekeeping]
interval_seconds = 1
[log]
level = "debug"
file = "$d/server.log"
EOF

# Config mistakes are refused before anything starts.
printf '[server]\nprot = 1\n' > "$d/typo.toml"
if "$server" --config "$d/typo.toml" 2>"$d/typo.err"; then fail "unknown key accepted"; fi
grep -q "unknown key \[server\] prot" "$d/typo.err" || fail "unknown key not named: $(cat "$d/typo.err")"
printf '[smdp]\ncc_retry_limit = "three"\n' > "$d/type.toml"
if "$server" --config "$d/type.toml" 2>/dev/null; then fail "wrong type accepted"; fi

"$server" --config "$d/smdpp.toml" &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$d/port" ] && break
  kill -0 "$pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
[ -s "$d/port" ] || fail "no port file"
port=$(cat "$d/port")
base="https://localhost:$port"
c() { curl -sS --max-time 10 --cacert "$d/pki/nist/ci.pem" "$@"; }

# Health: 200 "ok" (once the service is up) over TLS that verifies against the CI.
ok=
for _ in $(seq 1 50); do
  if [ "$(c "$base/healthz" 2>/dev/null)" = "ok" ]; then ok=1; break; fi
  sleep 0.1
done
[ -n "$ok" ] || fail "/healthz did not answer ok"

# Admin API: no token, wrong token → 401.
[ "$(c -o /dev/null -w '%{http_code}' -X POST "$base/admin/orders" -d '{}')" = 401 ] || fail "no token accepted"
[ "$(c -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$base/admin/orders/x")" = 401 ] \
  || fail "wrong token accepted"
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')

code=$(c -o "$d/op.json" -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/operators" \
  -d '{"id":"op1","display_name":"Operator One","es2_token":"es2-secret-token-1"}')
[ "$code" = 201 ] || fail "add operator: $code $(cat "$d/op.json")"
code=$(c -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/operators" \
  -d '{"id":"op1","es2_token":"another-token-123"}')
[ "$code" = 409 ] || fail "duplicate operator: $code"

"$cli" profile make --iccid 8949449999999990031 --imsi 001010000000031 --out "$d/p.der" >/dev/null
code=$(c -o "$d/prof.json" -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/profiles" \
  -d "{\"operator\":\"op1\",\"package\":\"$(base64 -w0 "$d/p.der")\",\"profile_type\":\"t1\"}")
[ "$code" = 201 ] || fail "add profile: $code $(cat "$d/prof.json")"
grep -q '"iccid":"8949449999999990031"' "$d/prof.json" || fail "profile answer: $(cat "$d/prof.json")"
code=$(c -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/profiles" \
  -d '{"operator":"op1","package":"bm90IGEgcHJvZmlsZQ=="}')
[ "$code" = 400 ] || fail "garbage package: $code"

code=$(c -o "$d/order.json" -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/orders" \
  -d '{"operator":"op1","profile_type":"t1"}')
[ "$code" = 201 ] || fail "create order: $code $(cat "$d/order.json")"
order_id=$(jstr "$d/order.json" order_id)
ac=$(jstr "$d/order.json" activation_code)
cc=$(jstr "$d/order.json" confirmation_code)
[[ "$ac" =~ ^LPA:1\$localhost:$port\$[A-Za-z0-9-]{20,}\$\$1$ ]] || fail "activation code: $ac"
[[ "$cc" =~ ^[0-9]{8}$ ]] || fail "confirmation code: $cc"
[ "$(jstr "$d/order.json" state)" = released ] || fail "order state: $(cat "$d/order.json")"
code=$(c -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$base/admin/orders" \
  -d '{"operator":"op1","profile_type":"t1"}')
[ "$code" = 409 ] || fail "order without stock: $code"

c "${auth[@]}" "$base/admin/orders/$order_id" > "$d/show.json"
[ "$(jstr "$d/show.json" order_id)" = "$order_id" ] || fail "order show: $(cat "$d/show.json")"
grep -q '"history":\[{"at":"' "$d/show.json" || fail "no history: $(cat "$d/show.json")"
[ "$(c -o /dev/null -w '%{http_code}' "${auth[@]}" "$base/admin/orders/ord-unknown")" = 404 ] \
  || fail "unknown order not 404"

# ES9+ with a bad Content-Type: HTTP 200, status Failed, 1.2.1 / 2.1.
code=$(c -o "$d/es9.json" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
  -H 'X-Admin-Protocol: gsma/rsp/v2.2.2' -H 'User-Agent: gsma-rsp-lpad' \
  --data '{"smdpAddress":"x"}' "$base/gsma/rsp2/es9plus/initiateAuthentication")
[ "$code" = 200 ] || fail "ES9+ bad Content-Type: HTTP $code"
[ "$(jstr "$d/es9.json" status)" = Failed ] || fail "not Failed: $(cat "$d/es9.json")"
[ "$(jstr "$d/es9.json" subjectCode)" = 1.2.1 ] || fail "subject: $(cat "$d/es9.json")"
[ "$(jstr "$d/es9.json" reasonCode)" = 2.1 ] || fail "reason: $(cat "$d/es9.json")"
[ -n "$(jstr "$d/es9.json" message)" ] || fail "no message: $(cat "$d/es9.json")"

# Metrics: the Prometheus text format, with the calls made above counted.
c -D "$d/metrics.h" "$base/metrics" > "$d/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$d/metrics.h" || fail "metrics content type"
grep -q '^# TYPE smdp_requests_total counter' "$d/metrics.txt" || fail "no smdp_requests_total"
grep -q '^smdp_requests_total{.*function="initiateAuthentication".*result="1.2.1/2.1".*} 1$' "$d/metrics.txt" \
  || has '^smdp_requests_total{.*result="1.2.1/2.1".*function="initiateAuthentication".*} 1$' "$d/metrics.txt" \
  || fail "refusal not counted: $(grep smdp_requests_total "$d/metrics.txt")"
n401=$(grep '^admin_requests_total{.*status="401"' "$d/metrics.txt" | awk '{s += $NF} END {print s + 0}')
[ "$n401" = 2 ] || fail "admin 401s counted $n401 times, not 2"
bad=$(grep -v '^#' "$d/metrics.txt" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+(Inf)?$|^$' || true)
[ -z "$bad" ] || fail "malformed metric lines: $bad"

# Unknown paths are 404, not a crash.
[ "$(c -o /dev/null -w '%{http_code}' "$base/nope")" = 404 ] || fail "unknown path"

# The admin token never reaches the log.
if grep -qF "$token" "$d/server.log"; then fail "admin token in the log"; fi

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "stopped" "$d/server.log" || fail "no clean stop in the log"
echo "smdpp server: ok"
