package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
)

// TestControllerCreatedPodsAreAnnotatedAndRun: pods the ReplicaSet,
// StatefulSet and Job controllers create — generated names, owner
// references — go through the chart's webhook configuration to the webhook
// over TLS and come back annotated with the image guess, pending; with the
// chart's ValidatingAdmissionPolicy in force, the controllers still create
// and delete them and kwok's kubelet status updates take them to Running
// (a Job's to Succeeded). A StatefulSet pod deleted comes back under its name
// as a new, newly annotated pod; the garbage collector removes a deleted
// Deployment's ReplicaSet and pods.
func TestControllerCreatedPodsAreAnnotatedAndRun(t *testing.T) {
	c := world(t)
	t.Parallel()
	ctx := context.Background()
	const ns = "workloads"
	namespace(t, c, ns)

	// The policy is in force in this cluster: what follows passes with it.
	forged := probePod(ns, map[string]string{api.StatusAnnotation: api.StatusClassified, api.ClassAnnotation: "mysql"})
	forged.Labels = map[string]string{api.EnabledLabel: "false"}
	if err := c.Client.Create(ctx, forged, client.DryRunAll); !isPolicyDenial(err) {
		t.Fatalf("the admission policy let a forged result through: %v", err)
	}

	sel := func(app string) map[string]string { return map[string]string{"app": app} }
	template := func(app, image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel(app)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}}}
	}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: sel("web")}, Template: template("web", "nginx:1.27")}}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: appsv1.StatefulSetSpec{
		ServiceName: "db", Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: sel("db")}, Template: template("db", "docker.io/bitnami/mariadb:11.4")}}
	jobTemplate := template("migrate", "postgres:16")
	jobTemplate.Spec.RestartPolicy = corev1.RestartPolicyNever
	migrate := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "migrate"}, Spec: batchv1.JobSpec{Template: jobTemplate}}
	for _, o := range []client.Object{web, db, migrate} {
		if err := c.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	// annotated is nil for a pod the webhook annotated with class, pending,
	// and whose controller is a kind of owner.
	annotated := func(class, owner string) func(*corev1.Pod) error {
		return func(p *corev1.Pod) error {
			ref := metav1.GetControllerOf(p)
			if ref == nil || ref.Kind != owner {
				return fmt.Errorf("controller %v, want a %s", ref, owner)
			}
			a := p.Annotations
			if a[api.StatusAnnotation] != api.StatusPending || a[api.ClassAnnotation] != class || a[api.ImageClassAnnotation] != class || a[api.SourceAnnotation] != api.SourceImage {
				return fmt.Errorf("not annotated by the webhook as %s, pending: %v", class, a)
			}
			return nil
		}
	}
	all := func(checks ...func(*corev1.Pod) error) func(*corev1.Pod) error {
		return func(p *corev1.Pod) error {
			for _, check := range checks {
				if err := check(p); err != nil {
					return err
				}
			}
			return nil
		}
	}

	t.Run("a Deployment's pods", func(t *testing.T) {
		pods := waitPods(t, c, ns, sel("web"), 2, "of Deployment web running", all(annotated("nginx", "ReplicaSet"), running))
		for _, p := range pods {
			if p.GenerateName == "" {
				t.Errorf("pod %s has no generateName: not the ReplicaSet's", p.Name)
			}
		}
		available(t, c, ns, "web", 2)
	})

	t.Run("a StatefulSet's pods, and one deleted and recreated under its name", func(t *testing.T) {
		pods := waitPods(t, c, ns, sel("db"), 2, "of StatefulSet db running", all(annotated("mysql", "StatefulSet"), running))
		var first corev1.Pod
		for _, p := range pods {
			if p.Name == "db-0" {
				first = p
			}
		}
		if first.UID == "" {
			t.Fatalf("no pod db-0 among %d", len(pods))
		}
		if err := c.Client.Delete(ctx, &first); err != nil {
			t.Fatal(err)
		}
		waitPods(t, c, ns, sel("db"), 2, "of StatefulSet db, db-0 a new pod", all(func(p *corev1.Pod) error {
			if p.Name == "db-0" && p.UID == first.UID {
				return fmt.Errorf("still the first incarnation")
			}
			return nil
		}, annotated("mysql", "StatefulSet"), running))
	})

	t.Run("a Job's pod runs to completion", func(t *testing.T) {
		waitPods(t, c, ns, sel("migrate"), 1, "of Job migrate succeeded", all(annotated("postgresql", "Job"), func(p *corev1.Pod) error {
			if p.Status.Phase != corev1.PodSucceeded || !wasReady(p) {
				return fmt.Errorf("phase %s", p.Status.Phase)
			}
			return nil
		}))
		waitFor(t, time.Minute, "Job migrate to complete", func() (bool, error) {
			j := &batchv1.Job{}
			err := c.Client.Get(ctx, client.ObjectKeyFromObject(migrate), j)
			return err == nil && j.Status.Succeeded == 1, err
		})
	})

	t.Run("the garbage collector deletes a deleted Deployment's ReplicaSet and pods", func(t *testing.T) {
		if err := c.Client.Delete(ctx, web, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, "the pods and ReplicaSet of web to be gone", func() (bool, error) {
			rs := &appsv1.ReplicaSetList{}
			if err := c.Client.List(ctx, rs, client.InNamespace(ns), client.MatchingLabels(sel("web"))); err != nil {
				return false, err
			}
			pods := &corev1.PodList{}
			if err := c.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels(sel("web"))); err != nil {
				return false, err
			}
			return len(rs.Items) == 0 && len(pods.Items) == 0, fmt.Errorf("%d ReplicaSets, %d pods", len(rs.Items), len(pods.Items))
		})
	})
}

// wasReady says whether kwok reported the pod Running and Ready before it
// completed (a completed pod's Ready condition is left as it was set).
func wasReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
