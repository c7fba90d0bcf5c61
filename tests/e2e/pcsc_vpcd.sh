#!/usr/bin/env bash
# ES10 through real PC/SC: pcscd with vsmartcard's vpcd driver, the simulated
# eUICC plugged into it (`esimguard-euicc --vpcd`), and `esimguard-lpa --pcsc`
# reading it through libpcsclite.
#
# pcscd 1.9 ignores PCSCLITE_CSOCK_NAME and always serves /run/pcscd/pcscd.comm,
# so the script re-runs itself in private namespaces (unshare: mount, network,
# pid) and bind-mounts a temp dir over /run/pcscd there. The system pcscd, if
# any, is neither seen nor disturbed. vpcd listens on 0.0.0.0 and cannot be told
# otherwise; the private network namespace (only lo, brought up here) keeps that
# listener off every real interface and makes its port free by construction.
# The pid namespace dies with the script (--kill-child), so neither pcscd nor
# the card can outlive it, even if the script is killed.
#
# Checks: chip info shows the card's EID and EUICCInfo2 (SGP.22 §5.7.8), an
# empty profile list, a clean card exit on SIGTERM, and that once the card is
# gone the LPA fails: the answers did come through the reader.
# Needs root (mount, namespaces). Anything missing is a failure, never a skip.
set -euo pipefail
cli=$1

if [ "${ESIMGUARD_PCSC_NAMESPACE:-}" != 1 ] || [ "$$" != 1 ]; then
  command -v unshare >/dev/null || { echo "FAIL: unshare (util-linux) not found"; exit 1; }
  ns=(unshare --mount --propagation private --net --pid --fork --kill-child --mount-proc)
  if ! err=$("${ns[@]}" true 2>&1); then
    echo "FAIL: cannot create private mount/net/pid namespaces (run as root): $err"
    exit 1
  fi
  ESIMGUARD_PCSC_NAMESPACE=1 exec "${ns[@]}" bash "$0" "$@"
fi
# From here on: inside the namespaces, as pid 1.

apps="$(dirname "$(dirname "$cli")")"
euicc="$apps/esimguard-euicc/esimguard-euicc"
lpa="$apps/esimguard-lpa/esimguard-lpa"
driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
for b in "$cli" "$euicc" "$lpa"; do [ -x "$b" ] || { echo "FAIL: missing $b"; exit 1; }; done
for b in pcscd ip jq; do
  command -v "$b" >/dev/null || { echo "FAIL: $b not found (scripts/install-deps)"; exit 1; }
done
[ -f "$driver" ] || { echo "FAIL: $driver not found (vsmartcard-vpcd)"; exit 1; }

d=$(mktemp -d)
pcscd_pid=""
euicc_pid=""
stop() { # pid: TERM, then KILL after 5 s
  local p=$1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  wait "$p" 2>/dev/null || true
}
cleanup() {
  stop "$euicc_pid"
  stop "$pcscd_pid"
  umount /run/pcscd 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
  echo "FAIL: $*"
  for l in pcscd euicc; do
    [ -s "$d/$l.log" ] && { echo "--- $l log (tail)"; tail -n 25 "$d/$l.log"; }
  done
  exit 1
}
# Polls FILE for a fixed string, up to 10 s.
wait_for() {
  for _ in $(seq 1 100); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

ip link set lo up || fail "cannot bring up lo in the private network namespace"
mkdir -p /run/pcscd "$d/run" "$d/reader.conf.d"
mount --bind "$d/run" /run/pcscd || fail "cannot bind-mount $d/run over /run/pcscd"

# The namespace is empty, so vpcd's default port is free; vpcd also takes port+1
# for a second slot.
port=35963
reader="esimguard vpcd"
cat > "$d/reader.conf.d/vpcd" <<EOF
FRIENDLYNAME "$reader"
DEVICENAME   /dev/null:$port
LIBPATH      $driver
CHANNELID    $port
EOF
pcscd --foreground --info --config "$d/reader.conf.d" > "$d/pcscd.log" 2>&1 &
pcscd_pid=$!
wait_for "$d/pcscd.log" "daemon ready" || fail "pcscd did not start"
grep -qF "Waiting for virtual ICC on port $port" "$d/pcscd.log" || fail "pcscd did not load vpcd"

eid=89049032123451234512345678901235
"$cli" pki init --dir "$d/pki" --curve nist --host localhost > /dev/null || fail "pki init"
"$euicc" --state "$d/card.json" --pki "$d/pki" --curve nist --eid "$eid" \
  --vpcd "127.0.0.1:$port" --log-level debug 2> "$d/euicc.log" &
euicc_pid=$!
wait_for "$d/pcscd.log" "Card inserted into $reader" || fail "the card never showed up in the reader"

lpa_run() { "$lpa" --pcsc "$reader" --json "$@"; }
lpa_run chip info > "$d/info.json" 2> "$d/info.err" \
  || fail "chip info: $(cat "$d/info.json" "$d/info.err")"
jq -e --arg eid "$eid" '.ok == true and .data.eid == $eid' "$d/info.json" > /dev/null \
  || fail "chip info does not show EID $eid: $(cat "$d/info.json")"
jq -e '(.data.svn | startswith("2.")) and (.data.ciPKIdListForVerification | length > 0)
       and (.data.ciPKIdListForSigning | length > 0)' "$d/info.json" > /dev/null \
  || fail "chip info lacks EUICCInfo2: $(cat "$d/info.json")"

lpa_run profile list > "$d/list.json" 2> "$d/list.err" \
  || fail "profile list: $(cat "$d/list.json" "$d/list.err")"
jq -e '.ok == true and .data == []' "$d/list.json" > /dev/null \
  || fail "profile list of a new card is not empty: $(cat "$d/list.json")"

# The card leaves on SIGTERM, cleanly; then the LPA has nothing to talk to.
kill -TERM "$euicc_pid"; rc=0; wait "$euicc_pid" || rc=$?; euicc_pid=
[ "$rc" = 0 ] || fail "esimguard-euicc exit status $rc on SIGTERM"
wait_for "$d/pcscd.log" "Card Removed From $reader" || wait_for "$d/pcscd.log" "Card removed" \
  || fail "pcscd did not see the card leave"
if lpa_run chip info > "$d/gone.json" 2> "$d/gone.err"; then
  fail "chip info succeeded with no card in the reader: $(cat "$d/gone.json")"
fi
jq -e '.ok == false' "$d/gone.json" > /dev/null \
  || fail "chip info without a card did not fail cleanly: $(cat "$d/gone.json" "$d/gone.err")"

kill -0 "$pcscd_pid" 2>/dev/null || fail "pcscd died during the test"
stop "$pcscd_pid"; pcscd_pid=
echo "pcsc + vpcd: ok (EID $eid through pcscd)"
