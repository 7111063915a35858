#!/usr/bin/env bash
# tools.sh builds the external binaries podclass's tests and demo run against —
# etcd and kube-apiserver (envtest's control plane), kube-controller-manager,
# kube-scheduler and kwok (a cluster with controllers and simulated nodes), helm,
# InfluxDB, VictoriaMetrics, and the policy engines' offline CLIs (Kyverno's and
# Gatekeeper's gator) — from the Go module proxy, the only source our machines
# reach. Each binary is built once per version into a cache outside the clone, so
# only a machine's first run pays.
#
# Usage: hack/tools.sh [envtest|cluster|demo|helm|influxd|victoria-metrics|policy|all]   (default: all)
# (demo: what `make demo` runs, no more.)
# Prints nothing but progress on stderr; `hack/tools.sh env` prints the exports.
set -euo pipefail

ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
INFLUXD_VERSION=${INFLUXD_VERSION:-v1.8.10}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
VM_VERSION=${VM_VERSION:-v1.151.0}
KYVERNO_VERSION=${KYVERNO_VERSION:-v1.19.1}
GATEKEEPER_VERSION=${GATEKEEPER_VERSION:-v3.23.1}

CACHE=${PODCLASS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podclass}
ENVTEST_DIR=$CACHE/envtest/etcd-$ETCD_VERSION-kube-$KUBE_VERSION
HELM_BIN=$CACHE/helm-$HELM_VERSION/helm
INFLUXD_BIN=$CACHE/influxd-$INFLUXD_VERSION/influxd
KUBE_DIR=$CACHE/kube-$KUBE_VERSION
KWOK_BIN=$CACHE/kwok-$KWOK_VERSION/kwok
VM_BIN=$CACHE/victoria-metrics-$VM_VERSION/victoria-metrics
KYVERNO_BIN=$CACHE/kyverno-$KYVERNO_VERSION/kyverno
GATOR_BIN=$CACHE/gator-$GATEKEEPER_VERSION/gator

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

# kube_module DIR: a scratch module requiring k8s.io/kubernetes, each staging
# module pinned to its published tag (k8s.io/kubernetes points them at ./staging).
kube_module() {
	local d=$1
	scratch "$d" podclass.tools/kube
	local staging=${KUBE_VERSION/v1./v0.}
	local gomod
	gomod=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	(cd "$d" && go mod edit -go=1.25.0)
	{
		echo "godebug default=go1.25"
		echo "require k8s.io/kubernetes $KUBE_VERSION"
		grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
	} >>"$d/go.mod"
}

# build_kube DEST CMD...: builds the named k8s.io/kubernetes/cmd/* binaries into DEST.
build_kube() {
	local dest=$1; shift
	local want=()
	for c in "$@"; do [[ -x $dest/$c ]] || want+=("$c"); done
	((${#want[@]})) || return 0
	log "building ${want[*]} $KUBE_VERSION (3 to 25 minutes each on 2 cores)"
	local d; d=$(mktemp -d)
	kube_module "$d"
	{
		printf '//go:build tools\n\npackage tools\n\nimport (\n'
		for c in "${want[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
		printf ')\n'
	} >"$d/tools.go"
	local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
	local ld="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
	done
	(cd "$d" && go mod tidy >&2)
	mkdir -p "$dest"
	for c in "${want[@]}"; do
		(cd "$d" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$d/$c" "k8s.io/kubernetes/cmd/$c")
		mv "$d/$c" "$dest/$c"
	done
	rm -rf "$d"
}

build_kube_apiserver() { build_kube "$ENVTEST_DIR" kube-apiserver; }

# The cluster's other control-plane parts: the controllers that turn
# Deployments, StatefulSets and Jobs into pods, and the scheduler that binds them.
build_kube_cluster() { build_kube "$KUBE_DIR" kube-controller-manager kube-scheduler; }

# go_install BIN PKG@VERSION [LDFLAGS]: go install into a temporary GOBIN, then
# move the one binary to BIN (the cache path names the version). cgo follows
# the environment: callers that want a static binary say CGO_ENABLED=0.
go_install() {
	[[ -x $1 ]] && return
	log "building $(basename "$1") from $2"
	local gobin; gobin=$(mktemp -d)
	GOBIN=$gobin go install -trimpath -ldflags "-s -w ${3:-}" "$2"
	mkdir -p "$(dirname "$1")" && mv "$gobin"/* "$1" && rm -rf "$gobin"
}

# kwok simulates nodes and the kubelet's pod lifecycle (Pending → Running) with
# no container runtime.
build_kwok() { CGO_ENABLED=0 go_install "$KWOK_BIN" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"; }

build_victoria_metrics() {
	CGO_ENABLED=0 go_install "$VM_BIN" "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VM_VERSION"
}

build_gator() {
	CGO_ENABLED=0 go_install "$GATOR_BIN" "github.com/open-policy-agent/gatekeeper/v3/cmd/gator@$GATEKEEPER_VERSION"
}

# Kyverno's go.mod has a replace line, which go install refuses: build in a
# scratch module that repeats it.
build_kyverno() {
	[[ -x $KYVERNO_BIN ]] && return
	log "building kyverno CLI $KYVERNO_VERSION (about 15 minutes on 2 cores)"
	local d; d=$(mktemp -d)
	scratch "$d" podclass.tools/kyverno
	local gomod
	gomod=$(cd "$d" && go mod download -json "github.com/kyverno/kyverno@$KYVERNO_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		echo "require github.com/kyverno/kyverno $KYVERNO_VERSION"
		grep -E '^replace ' "$gomod"
	} >>"$d/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"\n' >"$d/tools.go"
	(cd "$d" && go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$d/kyverno" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)
	mkdir -p "$(dirname "$KYVERNO_BIN")" && mv "$d/kyverno" "$KYVERNO_BIN" && rm -rf "$d"
}

build_helm() {
	# Without the Kubernetes version -X, .Capabilities.KubeVersion reads v1.20.0.
	local ld="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
	for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
		ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=35"
	done
	CGO_ENABLED=0 go_install "$HELM_BIN" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "$ld"
}

build_influxd() { go_install "$INFLUXD_BIN" "github.com/influxdata/influxdb/cmd/influxd@$INFLUXD_VERSION"; }

print_env() {
	echo "export KUBEBUILDER_ASSETS=$ENVTEST_DIR"
	echo "export PODCLASS_KUBE_BIN=$KUBE_DIR"
	echo "export PODCLASS_KWOK=$KWOK_BIN"
	echo "export PODCLASS_HELM=$HELM_BIN"
	echo "export PODCLASS_INFLUXD=$INFLUXD_BIN"
	echo "export PODCLASS_VICTORIA_METRICS=$VM_BIN"
	echo "export PODCLASS_KYVERNO=$KYVERNO_BIN"
	echo "export PODCLASS_GATOR=$GATOR_BIN"
}

case ${1:-all} in
envtest) build_etcd; build_kube_apiserver ;;
cluster) build_etcd; build_kube_apiserver; build_kube_cluster; build_kwok ;;
demo) build_etcd; build_kube_apiserver; build_kube_cluster; build_kwok; build_influxd ;;
helm) build_helm ;;
influxd) build_influxd ;;
victoria-metrics) build_victoria_metrics ;;
policy) build_kyverno; build_gator ;;
all)
	build_etcd; build_kube_apiserver; build_kube_cluster; build_kwok; build_helm; build_influxd
	build_victoria_metrics; build_kyverno; build_gator
	;;
env) print_env ;;
*) echo "usage: $0 [envtest|cluster|demo|helm|influxd|victoria-metrics|policy|all|env]" >&2; exit 2 ;;
esac
