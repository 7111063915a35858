#!/usr/bin/env bash
# prometheus.sh makes sure Debian's prometheus and promtool are installed for the
# sample-source tests (internal/harness/promtest backfills blocks with promtool and runs its own
# prometheus on a loopback port), and that the packaged system service is NOT
# running: a stray service would hold port 9090 and a data dir nobody asked for.
#
# Idempotent: a second run installs nothing; waits for another install's
# package-manager lock (hack/apt.sh). Needs root (or sudo) only when it
# has to install. Usage: hack/prometheus.sh
set -euo pipefail

log() { echo "prometheus.sh: $*" >&2; }

# shellcheck source=hack/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
as_root() { apt_as_root "$@"; }

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
	apt_install prometheus
fi

stop_service
log "$(prometheus --version 2>&1 | head -n1)"
