package tools

import (
	"os"
	"path/filepath"
)

// Versions hack/tools.sh builds.
const (
	EtcdVersion    = "v3.6.16"
	KubeVersion    = "v1.35.4"
	HelmVersion    = "v3.22.0"
	InfluxdVersion = "v1.8.10"
)

// Cache is hack/tools.sh's cache directory:
// ${PODCLASS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podclass}.
func Cache() string {
	if d := os.Getenv("PODCLASS_TOOLS_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "podclass")
}

// EnvtestAssets is the directory holding etcd and kube-apiserver
// ($KUBEBUILDER_ASSETS overrides).
func EnvtestAssets() string {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		return d
	}
	return filepath.Join(Cache(), "envtest", "etcd-"+EtcdVersion+"-kube-"+KubeVersion)
}

// Influxd is the influxd binary ($PODCLASS_INFLUXD overrides).
func Influxd() string {
	if p := os.Getenv("PODCLASS_INFLUXD"); p != "" {
		return p
	}
	return filepath.Join(Cache(), "influxd-"+InfluxdVersion, "influxd")
}

// Helm is the helm binary ($PODCLASS_HELM overrides).
func Helm() string {
	if p := os.Getenv("PODCLASS_HELM"); p != "" {
		return p
	}
	return filepath.Join(Cache(), "helm-"+HelmVersion, "helm")
}
