#!/usr/bin/env bash
# apt.sh is sourced by the scripts that install Debian packages. apt_install
# waits for the package manager's locks (another install, unattended-upgrades,
# a second `make`) instead of failing with "Could not get lock
# /var/lib/dpkg/lock-frontend", and keeps the packages' services from starting.
#
#   source hack/apt.sh; apt_install pkg...
#
# APT_LOCK_TIMEOUT (seconds, default 600) bounds the wait.

apt_as_root() {
	if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# apt_get ARGS...: apt-get that waits for the dpkg lock (DPkg::Lock::Timeout)
# and, for the lists lock that `apt-get update` takes, retries while another
# apt holds it, until APT_LOCK_TIMEOUT passes.
apt_get() {
	local timeout=${APT_LOCK_TIMEOUT:-600} start=$SECONDS out rc
	while :; do
		rc=0
		out=$(apt_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$timeout" "$@" 2>&1) || rc=$?
		if ((rc == 0)); then
			return 0
		fi
		if grep -q "Could not get lock\|Unable to lock\|is held by process" <<<"$out" && ((SECONDS - start < timeout)); then
			echo "apt: waiting for another package manager to finish ($((SECONDS - start))s)" >&2
			sleep 5
			continue
		fi
		printf '%s\n' "$out" >&2
		return "$rc"
	done
}

# apt_install PKG...: installs the packages not yet installed; the packages'
# own services are not started (policy-rc.d exit 101), and a policy-rc.d we
# did not create is left alone.
apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "apt: installing ${missing[*]}" >&2
	local created_policy=false rc=0
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' | apt_as_root tee /usr/sbin/policy-rc.d >/dev/null
		apt_as_root chmod +x /usr/sbin/policy-rc.d
		created_policy=true
	fi
	apt_get update -qq && apt_get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
	[[ $created_policy == true ]] && apt_as_root rm -f /usr/sbin/policy-rc.d
	return "$rc"
}
