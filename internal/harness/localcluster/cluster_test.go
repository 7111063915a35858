package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestClusterRunsWorkloads starts the whole cluster and checks each part does
// its job: the controllers create pods for a Deployment, a StatefulSet and a
// Job, the scheduler binds them to the simulated nodes, kwok runs them
// (Pending → Running, a Job's pod Succeeded after the time its annotation
// asks for), a StatefulSet pod deleted comes back under its name with a new
// UID, the garbage collector removes a deleted Deployment's pods, a cordoned
// node gets no new pods, and a component that dies is named with its log.
func TestClusterRunsWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane, kube-controller-manager, kube-scheduler and kwok")
	}
	t0 := time.Now()
	c, err := Start(Options{Cluster: &ClusterOptions{Nodes: DefaultNodes(2)}})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop()
		}
	})
	t.Logf("cluster with %d nodes up in %s", len(c.Nodes), time.Since(t0).Round(time.Millisecond))
	if len(c.Nodes) != 2 {
		t.Fatalf("nodes %v, want 2", c.Nodes)
	}
	if _, err := os.Stat(c.Kubeconfig); err != nil {
		t.Errorf("no admin kubeconfig: %v", err)
	}
	ctx := context.Background()
	if err := c.Namespace(ctx, "apps", false); err != nil {
		t.Fatal(err)
	}
	labels := func(app string) map[string]string { return map[string]string{"app": app} }
	template := func(app string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels(app)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1.27"}}},
		}
	}

	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: labels("web")}, Template: template("web")}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels("db")}, Template: template("db")}}
	jobTemplate := template("job")
	jobTemplate.Annotations = map[string]string{CompleteAfterAnnotation: "3s"}
	jobTemplate.Spec.RestartPolicy = corev1.RestartPolicyNever
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "once"}, Spec: batchv1.JobSpec{Template: jobTemplate}}
	for _, o := range []client.Object{deploy, sts, job} {
		if err := c.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a Deployment's pods are created, scheduled and run", func(t *testing.T) {
		pods := waitPods(t, c, "web", 3, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning && podReady(p) })
		for _, p := range pods {
			owner := metav1.GetControllerOf(&p)
			if owner == nil || owner.Kind != "ReplicaSet" || p.GenerateName == "" {
				t.Errorf("pod %s: owner %v, generateName %q; want one a ReplicaSet generated", p.Name, owner, p.GenerateName)
			}
			if !slices.Contains(c.Nodes, p.Spec.NodeName) {
				t.Errorf("pod %s on node %q, want one of %v", p.Name, p.Spec.NodeName, c.Nodes)
			}
		}
		waitCond(t, c, "the Deployment to be Available", func() (bool, error) {
			d := &appsv1.Deployment{}
			err := c.Client.Get(ctx, client.ObjectKeyFromObject(deploy), d)
			return err == nil && d.Status.AvailableReplicas == 3, err
		})
	})

	t.Run("a Job's pod runs as long as its annotation says, then the Job completes", func(t *testing.T) {
		pods := waitPods(t, c, "job", 1, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
		p := pods[0]
		var running time.Time
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				running = cond.LastTransitionTime.Time
			}
		}
		st := p.Status.ContainerStatuses
		if running.IsZero() || len(st) != 1 || st[0].State.Terminated == nil {
			t.Fatalf("pod %s: no Ready time or terminated state: %+v", p.Name, p.Status)
		}
		// Second-precision timestamps: 3 s asked, at least 2 s seen.
		if ran := st[0].State.Terminated.FinishedAt.Sub(running); ran < 2*time.Second {
			t.Errorf("the Job's pod ran %s, its annotation asked for 3s", ran)
		}
		waitCond(t, c, "the Job to complete", func() (bool, error) {
			j := &batchv1.Job{}
			err := c.Client.Get(ctx, client.ObjectKeyFromObject(job), j)
			return err == nil && j.Status.Succeeded == 1, err
		})
	})

	t.Run("a StatefulSet pod deleted comes back under its name with a new UID", func(t *testing.T) {
		first := waitPods(t, c, "db", 1, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })[0]
		if first.Name != "db-0" {
			t.Fatalf("StatefulSet pod %s, want db-0", first.Name)
		}
		if err := c.Client.Delete(ctx, &first); err != nil {
			t.Fatal(err)
		}
		waitPods(t, c, "db", 1, func(p *corev1.Pod) bool {
			return p.Name == "db-0" && p.UID != first.UID && p.Status.Phase == corev1.PodRunning
		})
	})

	t.Run("a cordoned node gets no new pods", func(t *testing.T) {
		if err := c.Cordon(ctx, c.Nodes[0], true); err != nil {
			t.Fatal(err)
		}
		d := &appsv1.Deployment{}
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(deploy), d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Replicas = ptr.To[int32](6)
		if err := c.Client.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
		before := map[string]bool{}
		for _, p := range listPods(t, c, "web") {
			before[p.Name] = true
		}
		pods := waitPods(t, c, "web", 6, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
		for _, p := range pods {
			if !before[p.Name] && p.Spec.NodeName == c.Nodes[0] {
				t.Errorf("new pod %s scheduled onto cordoned node %s", p.Name, c.Nodes[0])
			}
		}
		if err := c.Cordon(ctx, c.Nodes[0], false); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the garbage collector removes a deleted Deployment's pods", func(t *testing.T) {
		if err := c.Client.Delete(ctx, deploy, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatal(err)
		}
		waitCond(t, c, "the Deployment's pods to be gone", func() (bool, error) { return len(listPods(t, c, "web")) == 0, nil })
	})

	t.Run("each node has a Lease kwok renews, as a kubelet's", func(t *testing.T) {
		// Without one the node-lifecycle controller marks a node Unknown
		// and taints it 50 s after its last status heartbeat.
		for _, node := range c.Nodes {
			l := &coordinationv1.Lease{}
			if err := c.Client.Get(ctx, client.ObjectKey{Namespace: corev1.NamespaceNodeLease, Name: node}, l); err != nil {
				t.Fatalf("node %s: %v", node, err)
			}
			if ptr.Deref(l.Spec.HolderIdentity, "") == "" || ptr.Deref(l.Spec.LeaseDurationSeconds, 0) != 40 || l.Spec.RenewTime == nil {
				t.Errorf("node %s: lease %+v, want one held and renewed for 40 s", node, l.Spec)
			}
		}
	})

	t.Run("a component that dies is named with its log, and Stop reports it", func(t *testing.T) {
		var kwok *component
		for _, p := range c.components {
			if p.name == "kwok" {
				kwok = p
			}
		}
		if err := c.Crashed(); err != nil {
			t.Fatalf("a component is down before the test killed one: %v", err)
		}
		if err := kwok.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-kwok.exited
		err := c.Crashed()
		if err == nil || !strings.Contains(err.Error(), "kwok exited") || !strings.Contains(err.Error(), "kwok.log") {
			t.Errorf("Crashed() = %v, want kwok named with its log", err)
		}
		pids := map[string]int{}
		for _, p := range c.components {
			pids[p.name] = p.cmd.Process.Pid
		}
		stopped = true
		err = c.Stop()
		if err == nil || !strings.Contains(err.Error(), "kwok exited") {
			t.Errorf("Stop() = %v, want the crash of kwok reported", err)
		}
		for name, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				t.Errorf("%s (pid %d) still runs after Stop", name, pid)
			}
		}
	})
}

// TestAMissingClusterBinaryNamesTheTarget: Start fails before starting
// anything, naming the hack/tools.sh target that builds the binary.
func TestAMissingClusterBinaryNamesTheTarget(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "kwok")
	_, err := Start(Options{AssetsDir: t.TempDir(), Cluster: &ClusterOptions{Kwok: missing}})
	if err == nil || !strings.Contains(err.Error(), "hack/tools.sh cluster") {
		t.Errorf("Start with no binaries: %v, want an error naming hack/tools.sh cluster", err)
	}
	dir := t.TempDir()
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if err := os.WriteFile(filepath.Join(dir, bin), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err = Start(Options{AssetsDir: dir, Cluster: &ClusterOptions{KubeBinDir: t.TempDir(), Kwok: missing}})
	if err == nil || !strings.Contains(err.Error(), "kube-controller-manager missing: run `hack/tools.sh cluster`") {
		t.Errorf("Start without kube-controller-manager: %v, want an error naming it and hack/tools.sh cluster", err)
	}
}

// TestAComponentThatCrashesSaysWhy: a component exiting before it answers
// its health check is an error carrying its stderr, at once rather than at
// the timeout; one that runs is stopped by SIGTERM without error.
func TestAComponentThatCrashesSaysWhy(t *testing.T) {
	dir := t.TempDir()
	bad, err := startComponent("bad", "/bin/sh", []string{"-c", "echo 'unknown flag: --frobnicate' >&2; exit 2"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = bad.waitHealthy(context.Background(), "http://127.0.0.1:1/healthz", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "unknown flag: --frobnicate") || !strings.Contains(err.Error(), "bad exited") {
		t.Errorf("waitHealthy = %v, want the crash with its stderr", err)
	}
	if took := time.Since(t0); took > 10*time.Second {
		t.Errorf("the crash was noticed after %s, not at once", took)
	}
	if err := bad.stop(time.Second); err == nil || !strings.Contains(err.Error(), "unknown flag") {
		t.Errorf("stop of a crashed component = %v, want its crash", err)
	}

	good, err := startComponent("good", "/bin/sh", []string{"-c", "exec sleep 60"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.crashed(); err != nil {
		t.Errorf("a running component crashed: %v", err)
	}
	if err := good.stop(5 * time.Second); err != nil {
		t.Errorf("stopping a running component: %v", err)
	}
	if err := good.crashed(); err != nil {
		t.Errorf("a stopped component counts as crashed: %v", err)
	}
}

func listPods(t *testing.T, c *Cluster, app string) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := c.Client.List(context.Background(), list, client.InNamespace("apps"), client.MatchingLabels{"app": app}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// waitPods waits until app has n pods (none terminating) and all satisfy ok.
func waitPods(t *testing.T, c *Cluster, app string, n int, ok func(*corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	waitCond(t, c, fmt.Sprintf("%d pods of %s", n, app), func() (bool, error) {
		pods = listPods(t, c, app)
		if len(pods) != n {
			return false, fmt.Errorf("%d pods", len(pods))
		}
		for i := range pods {
			if pods[i].DeletionTimestamp != nil || !ok(&pods[i]) {
				return false, fmt.Errorf("pod %s: %s", pods[i].Name, pods[i].Status.Phase)
			}
		}
		return true, nil
	})
	return pods
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitCond polls cond for a minute; a timeout names any crashed component.
func waitCond(t *testing.T, c *Cluster, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil && !apierrors.IsNotFound(err) {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last: %v; components: %v)", what, last, c.Crashed())
}
