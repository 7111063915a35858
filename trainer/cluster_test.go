package trainer

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/podclass/podclass/api"
)

// TestClusterPodsNameEachPodsWorkloadAsItsLoad: replicas of one Deployment,
// across a rollout, are one load; a StatefulSet's pods another; a pod no
// controller owns is its own.
func TestClusterPodsNameEachPodsWorkloadAsItsLoad(t *testing.T) {
	pod := func(name, hash, kind, owner string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Labels: map[string]string{}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}}}
		if hash != "" {
			p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: owner, UID: types.UID("u-" + owner), Controller: ptr.To(true)}}
		}
		return p
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{api.EnabledLabel: "true"}}}
	c := fake.NewClientBuilder().WithObjects(ns,
		pod("web-7d9f8-abcde", "7d9f8", "ReplicaSet", "web-7d9f8"),
		pod("web-5c6b7-fghij", "5c6b7", "ReplicaSet", "web-5c6b7"), // after a rollout
		pod("plain-rs-xyz", "", "ReplicaSet", "plain-rs"),          // a ReplicaSet of its own
		pod("db-0", "", "StatefulSet", "db"),
		pod("debug", "", "", ""),
	).Build()
	pods, err := ClusterPods(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"web-7d9f8-abcde": "shop/Deployment/web",
		"web-5c6b7-fghij": "shop/Deployment/web",
		"plain-rs-xyz":    "shop/ReplicaSet/plain-rs",
		"db-0":            "shop/StatefulSet/db",
		"debug":           "shop/Pod/debug", // its own load
	}
	if len(pods) != len(want) {
		t.Fatalf("%d pods, want %d", len(pods), len(want))
	}
	for _, p := range pods {
		if got := p.Columns[LoadColumn]; got != want[p.Key.Name] {
			t.Errorf("%s: load %q, want %q", p.Key.Name, got, want[p.Key.Name])
		}
		if got := p.Columns[WorkloadColumn]; got != want[p.Key.Name] {
			t.Errorf("%s: workload %q, want %q", p.Key.Name, got, want[p.Key.Name])
		}
	}
}
