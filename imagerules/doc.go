// Package imagerules names the kind of service a container image runs, from
// its reference alone: `bitnami/mysql:8` is mysql, `registry:5000/team/redis@sha256:…`
// is redis. The webhook uses it for its first guess at pod CREATE and the
// trainer uses it to label pods whose image is unambiguous.
//
// References are parsed with github.com/distribution/reference, the parser
// container runtimes use, so registries, ports, tags, digests and the implicit
// docker.io/library/ prefix are handled exactly as the kubelet would.
//
// It imports nothing of podclass; the webhook and the trainer import it.
package imagerules
