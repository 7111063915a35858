package demo

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/localcluster"
)

// jobRunsFor is how long kwok lets a Job's pod run before it completes:
// past the minute of behaviour the model reads.
const jobRunsFor = "150s"

// object is the workload as a user would write it.
func (w *workload) object() client.Object {
	labels := map[string]string{"app": w.Name}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": w.Name}}}
	if w.OptOut {
		template.Labels[api.EnabledLabel] = "false"
	}
	for _, c := range w.Containers {
		template.Spec.Containers = append(template.Spec.Containers, corev1.Container{Name: c[0], Image: c[1]})
	}
	meta := metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name, Labels: labels}
	selector := &metav1.LabelSelector{MatchLabels: labels}
	replicas := ptr.To(int32(w.Replicas))
	switch w.Kind {
	case kindStatefulSet:
		return &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{
			ServiceName: w.Name, Replicas: replicas, Selector: selector, Template: template}}
	case kindJob, kindCronJob:
		template.Annotations = map[string]string{localcluster.CompleteAfterAnnotation: jobRunsFor}
		template.Spec.RestartPolicy = corev1.RestartPolicyNever
		job := batchv1.JobSpec{Template: template, BackoffLimit: ptr.To[int32](0)}
		if w.Kind == kindJob {
			return &batchv1.Job{ObjectMeta: meta, Spec: job}
		}
		return &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{
			Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{Spec: job}}}
	default:
		return &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{
			Replicas: replicas, Selector: selector, Template: template}}
	}
}

// create creates the workloads only selects.
func create(ctx context.Context, kube client.Client, ws []*workload, only func(*workload) bool) error {
	for _, w := range ws {
		if !only(w) {
			continue
		}
		if err := kube.Create(ctx, w.object()); err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", w.Kind, w.Namespace, w.Name, err)
		}
	}
	return nil
}

// suspend stops a CronJob from creating more Jobs.
func suspend(ctx context.Context, kube client.Client, namespace, name string) error {
	cj := &batchv1.CronJob{}
	if err := kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cj); err != nil {
		return err
	}
	patch := client.MergeFrom(cj.DeepCopy())
	cj.Spec.Suspend = ptr.To(true)
	return kube.Patch(ctx, cj, patch)
}

// owners finds the workload that owns a pod by following its controller
// references (ReplicaSet → Deployment, Job → CronJob), caching what it read.
type owners struct {
	kube  client.Client
	cache map[string]metav1.OwnerReference // "Kind/namespace/name" → its controller
}

func newOwners(kube client.Client) *owners {
	return &owners{kube: kube, cache: map[string]metav1.OwnerReference{}}
}

// of returns the kind and name of the workload a user created for the pod,
// or false for a pod no controller owns.
func (o *owners) of(ctx context.Context, p *corev1.Pod) (kind, name string, ok bool) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return "", "", false
	}
	kind, name = ref.Kind, ref.Name
	for kind == "ReplicaSet" || kind == kindJob {
		up, found := o.controller(ctx, kind, p.Namespace, name)
		if !found {
			break
		}
		kind, name = up.Kind, up.Name
	}
	return kind, name, true
}

// controller returns the controller of a ReplicaSet or Job.
func (o *owners) controller(ctx context.Context, kind, namespace, name string) (metav1.OwnerReference, bool) {
	key := kind + "/" + namespace + "/" + name
	if ref, ok := o.cache[key]; ok {
		return ref, ref.Kind != ""
	}
	var obj client.Object = &appsv1.ReplicaSet{}
	if kind == kindJob {
		obj = &batchv1.Job{}
	}
	if err := o.kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj); err != nil {
		return metav1.OwnerReference{}, false // not cached: read again next time
	}
	var ref metav1.OwnerReference
	if r := metav1.GetControllerOf(obj); r != nil {
		ref = *r
	}
	o.cache[key] = ref
	return ref, ref.Kind != ""
}
