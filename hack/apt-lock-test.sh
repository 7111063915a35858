#!/usr/bin/env bash
# apt-lock-test.sh checks that hack/apt.sh waits for the package manager's lock
# instead of failing: it holds /var/lib/dpkg/lock-frontend (the fcntl lock apt
# and dpkg take) for a few seconds and runs an apt-get install of an installed
# package meanwhile, which must succeed after the lock is released. Needs root
# (or sudo); `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/apt.sh

hold=${1:-6}
lock=/var/lib/dpkg/lock-frontend
# Hold the lock the way apt does (fcntl F_SETLK, which python's lockf is).
apt_as_root python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "w")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
' "$lock" "$hold" >/tmp/apt-lock-test.$$ &
holder=$!
trap 'kill $holder 2>/dev/null || true; rm -f /tmp/apt-lock-test.$$' EXIT
for _ in $(seq 50); do grep -q held /tmp/apt-lock-test.$$ 2>/dev/null && break; sleep 0.1; done
grep -q held /tmp/apt-lock-test.$$ || { echo "apt-lock-test: could not take $lock" >&2; exit 1; }

start=$SECONDS
# A plain apt-get fails at once while the lock is held: the test is only
# meaningful if it does.
if apt_as_root apt-get -o DPkg::Lock::Timeout=0 install -y -qq --no-install-recommends bash >/dev/null 2>&1; then
	echo "apt-lock-test: apt-get did not see the held lock" >&2
	exit 1
fi
APT_LOCK_TIMEOUT=60 apt_get install -y -qq --no-install-recommends bash
waited=$((SECONDS - start))
wait $holder || true
if ((waited < hold - 2)); then
	echo "apt-lock-test: apt_get returned after ${waited}s, before the lock (${hold}s) was released" >&2
	exit 1
fi
echo "apt-lock-test: waited ${waited}s for a lock held ${hold}s, then installed"
