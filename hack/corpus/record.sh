#!/usr/bin/env bash
# Record the podclass training corpus: real servers under real load, each in
# its own cgroup v1 + network namespace like a pod, sampled every 10 s into
# the line protocol of telegraf's kubernetes and docker inputs.
#
# Usage (root, Debian 12 with cgroup v1 mounted under /sys/fs/cgroup):
#   hack/corpus/record.sh                 # full corpus -> testdata/corpus
#   hack/corpus/record.sh -smoke -out /tmp/corpus-smoke
#   hack/corpus/record.sh -only redis,nginx -parallel 4
# All flags are passed to the Go recorder (go run ./hack/corpus -h).
set -euo pipefail

cd "$(dirname "$0")/../.."

if [[ $(id -u) != 0 ]]; then
	echo "record.sh: must run as root (cgroups, netns)" >&2
	exit 1
fi
for c in cpuacct memory blkio pids cpuset; do
	if [[ ! -d /sys/fs/cgroup/$c ]]; then
		echo "record.sh: cgroup v1 controller $c not mounted at /sys/fs/cgroup/$c" >&2
		exit 1
	fi
done

PKGS=(mariadb-server sysbench postgresql postgresql-contrib redis-server redis-tools memcached
	nginx apache2 apache2-utils wrk mosquitto mosquitto-clients haproxy iproute2 util-linux procps
	rabbitmq-server zookeeper etcd-server prometheus lighttpd varnish caddy nats-server beanstalkd mini-httpd
	tomcat10 default-jdk-headless gunicorn nodejs influxdb uwsgi uwsgi-plugin-python3 webfs
	yaws prometheus-alertmanager starman
	prometheus-mysqld-exporter prometheus-postgres-exporter prometheus-redis-exporter)
# shellcheck source=hack/apt.sh
source hack/apt.sh # the script runs from the repository root (cd above)
apt_install "${PKGS[@]}"

# Stop the distribution services if anything started them: each recorded
# server runs in its own namespace, but they would compete for CPU.
for svc in mariadb postgresql redis-server memcached nginx apache2 mosquitto haproxy rabbitmq-server zookeeper etcd prometheus lighttpd varnish caddy nats-server beanstalkd mini-httpd tomcat10 influxdb uwsgi webfs yaws prometheus-alertmanager prometheus-mysqld-exporter prometheus-postgres-exporter prometheus-redis-exporter; do
	if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	elif [[ -x /etc/init.d/$svc ]]; then
		/etc/init.d/"$svc" stop >/dev/null 2>&1 || true
	fi
done

CG=podclass-corpus
WORK=/var/tmp/podclass-corpus
BIN=$(mktemp -d /tmp/podclass-corpus-bin.XXXXXX)

# cleanup removes everything a recording creates: processes in our cgroups,
# the cgroups, the netns pairs and the per-pod directories.
cleanup() {
	set +e
	if [[ -n ${rec_pid:-} ]] && kill -0 "$rec_pid" 2>/dev/null; then
		kill -TERM "$rec_pid" 2>/dev/null
		for _ in $(seq 1 300); do kill -0 "$rec_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$rec_pid" 2>/dev/null
	fi
	for sig in TERM KILL; do
		pids=$(cat /sys/fs/cgroup/pids/$CG/*/cgroup.procs 2>/dev/null | sort -u)
		[[ -n $pids ]] && kill -$sig $pids 2>/dev/null
		[[ -n $pids ]] && sleep 3
	done
	for c in cpuacct memory blkio pids cpuset; do
		for d in /sys/fs/cgroup/$c/$CG/*/; do [[ -d $d ]] && rmdir "$d"; done
		[[ -d /sys/fs/cgroup/$c/$CG ]] && rmdir /sys/fs/cgroup/$c/$CG
	done
	for ns in $(ip netns list | awk '$1 ~ /^pcorp-/ {print $1}'); do ip netns del "$ns"; done
	rm -rf "$WORK" "$BIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cleanup_stale() { local b=$BIN; BIN=/nonexistent; cleanup; BIN=$b; }
cleanup_stale
mkdir -p "$WORK"

go build -o "$BIN/corpus" ./hack/corpus
"$BIN/corpus" "$@" &
rec_pid=$!
wait "$rec_pid"
