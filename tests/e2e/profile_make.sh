#!/usr/bin/env bash
# esimguard profile make: writes a SAIP package whose header carries the
# ICCID (nibble-swapped, as in DER), and refuses bad input with a non-zero exit.
set -euo pipefail
# grep -q would quit at the first match and a writer still writing gets
# SIGPIPE, which pipefail turns into a failure: has() reads all its input.
has() { grep "$@" >/dev/null; }
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$bin" profile make --iccid 8949449999999990023 --imsi 001010000000023 --out "$dir/p.der"
test -s "$dir/p.der"
# ProfileHeader A0 first; ICCID 89 49 44 99 99 99 99 90 02 3F swapped → 98 94 44 99 99 99 99 09 20 F3
head -c 1 "$dir/p.der" | xxd -p | has -x a0
xxd -p "$dir/p.der" | tr -d '\n' | has 989444999999990920f3 || { echo "ICCID not in header"; exit 1; }

if "$bin" profile make --iccid 12AB --imsi 001010000000023 --out "$dir/bad.der" 2>/dev/null; then
  echo "bad ICCID accepted"; exit 1
fi
if "$bin" profile make --iccid 8949449999999990023 --imsi 12 --out "$dir/bad.der" 2>/dev/null; then
  echo "bad IMSI accepted"; exit 1
fi
echo "profile make: ok"
