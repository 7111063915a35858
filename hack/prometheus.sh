#!/usr/bin/env bash
# prometheus.sh makes sure Debian's prometheus and promtool are installed for the
# sample-source tests (internal/harness/promtest backfills blocks with promtool and runs its own
# prometheus on a loopback port), and that the packaged system service is NOT
# running: a stray service would hold port 9090 and a data dir nobody asked for.
#
# Idempotent: a second run installs nothing. Needs root (or sudo) only when it
# has to install. Usage: hack/prometheus.sh
set -euo pipefail

log() { echo "prometheus.sh: $*" >&2; }

as_root() {
	if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

stop_service() {
	# The package's postinst may start the service (systemd or sysvinit); stop
	# whichever is there, and never fail if neither is.
	if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
		as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
	if [[ -x /etc/init.d/prometheus ]]; then
		as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
	fi
}

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
	log "installing Debian package prometheus"
	# policy-rc.d exit 101 tells invoke-rc.d not to start services during the
	# install; only remove it if we put it there.
	created_policy=false
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
		as_root chmod +x /usr/sbin/policy-rc.d
		created_policy=true
	fi
	trap '[[ $created_policy == true ]] && as_root rm -f /usr/sbin/policy-rc.d' EXIT
	as_root apt-get update -qq >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
fi

stop_service
log "$(prometheus --version 2>&1 | head -n1)"
