package trainer

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/samples"
)

// SidecarMatcher says which containers are helpers; *imagerules.Rules is one.
type SidecarMatcher interface {
	IsSidecar(containerName, image string) bool
}

// ClusterPods lists the pods of opted-in namespaces from the Kubernetes API
// — what PODS.csv stands in for offline — with each pod's main image (the
// first container that is not a sidecar). The trainer labels them with the
// image rules, so only pods whose image is unambiguous teach the model.
// Pages of 500 keep each API response small on large clusters.
func ClusterPods(ctx context.Context, c client.Reader, sidecars SidecarMatcher) ([]Pod, error) {
	nss := &corev1.NamespaceList{}
	if err := c.List(ctx, nss, client.MatchingLabels{api.EnabledLabel: "true"}); err != nil {
		return nil, fmt.Errorf("listing opted-in namespaces: %w", err)
	}
	var out []Pod
	for _, ns := range nss.Items {
		opts := []client.ListOption{client.InNamespace(ns.Name), client.Limit(500)}
		for {
			pods := &corev1.PodList{}
			if err := c.List(ctx, pods, opts...); err != nil {
				return nil, fmt.Errorf("listing pods in %s: %w", ns.Name, err)
			}
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.Labels[api.EnabledLabel] == "false" {
					continue
				}
				if image := mainImage(p, sidecars); image != "" {
					out = append(out, Pod{Key: samples.PodKey{Namespace: p.Namespace, Name: p.Name}, Image: image})
				}
			}
			if pods.Continue == "" {
				break
			}
			opts = []client.ListOption{client.InNamespace(ns.Name), client.Limit(500), client.Continue(pods.Continue)}
		}
	}
	return out, nil
}

func mainImage(p *corev1.Pod, sidecars SidecarMatcher) string {
	for _, c := range p.Spec.Containers {
		if sidecars == nil || !sidecars.IsSidecar(c.Name, c.Image) {
			return c.Image
		}
	}
	return ""
}
