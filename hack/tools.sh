#!/usr/bin/env bash
# tools.sh builds the external binaries podclass's tests and demo run against —
# etcd and kube-apiserver (envtest's control plane), helm and InfluxDB — from the
# Go module proxy, the only source our machines reach. Each binary is built once
# per version into a cache outside the clone, so only a machine's first run pays.
#
# Usage: hack/tools.sh [envtest|helm|influxd|all]   (default: all)
# Prints nothing but progress on stderr; `hack/tools.sh env` prints the exports.
set -euo pipefail

ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
INFLUXD_VERSION=${INFLUXD_VERSION:-v1.8.10}

CACHE=${PODCLASS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podclass}
ENVTEST_DIR=$CACHE/envtest/etcd-$ETCD_VERSION-kube-$KUBE_VERSION
HELM_BIN=$CACHE/helm-$HELM_VERSION/helm
INFLUXD_BIN=$CACHE/influxd-$INFLUXD_VERSION/influxd

log() { echo "tools: $*" >&2; }

scratch() { # scratch DIR MODULE: a throw-away module to build one tool in
	rm -rf "$1" && mkdir -p "$1" && (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

build_etcd() {
	[[ -x $ENVTEST_DIR/etcd ]] && return
	log "building etcd $ETCD_VERSION (about 1 minute)"
	local d; d=$(mktemp -d)
	scratch "$d" podclass.tools/etcd
	cat >"$d/tools.go" <<GO
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
	(cd "$d" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 && go mod tidy >&2 &&
		CGO_ENABLED=0 go build -trimpath -o "$d/etcd" go.etcd.io/etcd/server/v3)
	mkdir -p "$ENVTEST_DIR" && mv "$d/etcd" "$ENVTEST_DIR/etcd" && rm -rf "$d"
}

build_kube_apiserver() {
	[[ -x $ENVTEST_DIR/kube-apiserver ]] && return
	log "building kube-apiserver $KUBE_VERSION (3 to 25 minutes on 2 cores)"
	local d; d=$(mktemp -d)
	scratch "$d" podclass.tools/kube-apiserver
	local staging=${KUBE_VERSION/v1./v0.}
	# k8s.io/kubernetes points every staging module at ./staging: pin each to its published tag.
	local gomod
	gomod=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	(cd "$d" && go mod edit -go=1.25.0)
	{
		echo "godebug default=go1.25"
		echo "require k8s.io/kubernetes $KUBE_VERSION"
		grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
	} >>"$d/go.mod"
	cat >"$d/tools.go" <<GO
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
	local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
	local ld="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	(cd "$d" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$d/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
	mkdir -p "$ENVTEST_DIR" && mv "$d/kube-apiserver" "$ENVTEST_DIR/kube-apiserver" && rm -rf "$d"
}

build_helm() {
	[[ -x $HELM_BIN ]] && return
	log "building helm $HELM_VERSION (about 1 minute)"
	local gobin; gobin=$(mktemp -d)
	# Without the Kubernetes version -X, .Capabilities.KubeVersion reads v1.20.0.
	local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
	for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
		ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=35"
	done
	GOBIN=$gobin CGO_ENABLED=0 go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
	mkdir -p "$(dirname "$HELM_BIN")" && mv "$gobin/helm" "$HELM_BIN" && rm -rf "$gobin"
}

build_influxd() {
	[[ -x $INFLUXD_BIN ]] && return
	log "building influxd $INFLUXD_VERSION (about 1 minute)"
	local gobin; gobin=$(mktemp -d)
	GOBIN=$gobin go install -trimpath -ldflags "-s -w" "github.com/influxdata/influxdb/cmd/influxd@$INFLUXD_VERSION"
	mkdir -p "$(dirname "$INFLUXD_BIN")" && mv "$gobin/influxd" "$INFLUXD_BIN" && rm -rf "$gobin"
}

print_env() {
	echo "export KUBEBUILDER_ASSETS=$ENVTEST_DIR"
	echo "export PODCLASS_HELM=$HELM_BIN"
	echo "export PODCLASS_INFLUXD=$INFLUXD_BIN"
}

case ${1:-all} in
envtest) build_etcd; build_kube_apiserver ;;
helm) build_helm ;;
influxd) build_influxd ;;
all) build_etcd; build_kube_apiserver; build_helm; build_influxd ;;
env) print_env ;;
*) echo "usage: $0 [envtest|helm|influxd|all|env]" >&2; exit 2 ;;
esac
