package trainer

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// Each pod's workload stands for its load (the LoadColumn, and the
// WorkloadColumn): replicas of one Deployment serve one load, as a corpus
// scenario's recordings do, so the inner threshold calibration holds them out
// together, and so does the outer evaluation that gates a new model (the
// train command groups by WorkloadColumn with --from-cluster): held out by
// pod, a replica would be scored by a model that trained on its siblings.
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
					w := workload(p)
					out = append(out, Pod{Key: samples.PodKey{Namespace: p.Namespace, Name: p.Name}, Image: image,
						Columns: map[string]string{LoadColumn: w, WorkloadColumn: w}})
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

// WorkloadColumn is the pod column ClusterPods fills with the pod's
// workload; `--group-by workload` holds a workload's pods out together.
const WorkloadColumn = "workload"

// workload names the controller a pod belongs to, as namespace/Kind/name:
// a ReplicaSet stamped with the pod's template hash is its Deployment's, so
// a rollout does not make a new load. A pod no controller owns is its own
// load (namespace/Pod/name). A CronJob's Jobs each count as one: nothing on
// the pod names the CronJob.
func workload(p *corev1.Pod) string {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return p.Namespace + "/Pod/" + p.Name
	}
	kind, name := ref.Kind, ref.Name
	if h := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; kind == "ReplicaSet" && h != "" && strings.HasSuffix(name, "-"+h) {
		kind, name = "Deployment", strings.TrimSuffix(name, "-"+h)
	}
	return p.Namespace + "/" + kind + "/" + name
}

func mainImage(p *corev1.Pod, sidecars SidecarMatcher) string {
	for _, c := range p.Spec.Containers {
		if sidecars == nil || !sidecars.IsSidecar(c.Name, c.Image) {
			return c.Image
		}
	}
	return ""
}
