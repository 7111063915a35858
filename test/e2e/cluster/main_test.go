package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/internal/harness/localcluster"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/internal/harness/tools"
)

const (
	releaseNamespace = "podclass-system"
	// poolLabel puts nodes in pools: podclass's own pods run on the
	// tainted "system" nodes (the chart's nodeSelector and tolerations), the
	// tests' workloads on the "worker" nodes, so a drain of a system node
	// disturbs no other test.
	poolLabel = "pool"
)

// The cluster the package's tests share, started by TestMain.
var (
	shared   *localcluster.Cluster
	setupErr error
	// startTook and installTook are how long the cluster took to start and
	// the chart to install (helm install --wait).
	startTook, installTook time.Duration
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	testenv.SetupLogging()
	if !testing.Short() {
		stop, err := setup(context.Background())
		setupErr = err
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
			}
		}()
	}
	return m.Run()
}

// world returns the shared cluster. With -short the test is skipped; if the
// cluster did not come up — a binary missing (the error names the
// hack/tools.sh target that builds it), a component crashed — the test fails
// with why.
func world(t *testing.T) *localcluster.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end on a local cluster; skipped with -short")
	}
	if setupErr != nil {
		t.Fatalf("setting up the cluster: %v", setupErr)
	}
	return shared
}

// nodes are three tainted system nodes and three workers.
func nodes() []localcluster.Node {
	var out []localcluster.Node
	for i := range 3 {
		out = append(out, localcluster.Node{Name: fmt.Sprintf("system-%d", i), Labels: map[string]string{poolLabel: "system"},
			Taints: []corev1.Taint{{Key: poolLabel, Value: "system", Effect: corev1.TaintEffectNoSchedule}}})
	}
	for i := range 3 {
		out = append(out, localcluster.Node{Name: fmt.Sprintf("worker-%d", i), Labels: map[string]string{poolLabel: "worker"}})
	}
	return out
}

// chartValues puts podclass on the system pool and runs the trainer every
// minute, so the CronJob controller creates its Job while the tests run.
const chartValues = `
webhook:
  nodeSelector: {pool: system}
  tolerations: [{key: pool, operator: Equal, value: system, effect: NoSchedule}]
refiner:
  nodeSelector: {pool: system}
  tolerations: [{key: pool, operator: Equal, value: system, effect: NoSchedule}]
trainer:
  schedule: "* * * * *"
  nodeSelector: {pool: system}
  tolerations: [{key: pool, operator: Equal, value: system, effect: NoSchedule}]
`

// setup starts the cluster, serves the webhook, installs the chart with helm
// and points its webhook configuration at the served webhook. stop undoes
// what was done, also after an error.
func setup(ctx context.Context) (stop func() error, err error) {
	var stops []func() error
	stop = func() error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i]())
		}
		return errors.Join(errs...)
	}
	helm := tools.Helm()
	if err := tools.Missing(helm, "helm"); err != nil {
		return stop, err
	}
	t0 := time.Now()
	c, err := localcluster.Start(localcluster.Options{Cluster: &localcluster.ClusterOptions{Nodes: nodes()}})
	if err != nil {
		return stop, err
	}
	startTook = time.Since(t0)
	stops = append(stops, c.Stop)
	stopWebhook, err := c.ServeWebhook()
	if err != nil {
		return stop, err
	}
	stops = append(stops, stopWebhook)

	t0 = time.Now()
	dir, err := os.MkdirTemp("", "podclass-e2e-cluster-")
	if err != nil {
		return stop, err
	}
	stops = append(stops, func() error { return os.RemoveAll(dir) })
	values := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(values, []byte(chartValues), 0o600); err != nil {
		return stop, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, helm, "install", "podclass", filepath.Join("..", "..", "..", "charts", "podclass"),
		"--kubeconfig", c.Kubeconfig, "--namespace", releaseNamespace, "--create-namespace", "--values", values,
		"--wait", "--timeout", "4m")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return stop, fmt.Errorf("helm install: %w\n%s\ncomponents: %v", err, out.String(), c.Crashed())
	}
	if err := c.RedirectWebhook(ctx, "podclass"); err != nil {
		return stop, err
	}
	if err := admissionWorks(ctx, c); err != nil {
		return stop, err
	}
	installTook = time.Since(t0)
	shared = c
	return stop, nil
}

// admissionWorks waits until the apiserver calls the webhook on this machine
// for an opted-in namespace's pods and the chart's ValidatingAdmissionPolicy
// refuses a forged result: both take effect a moment after their objects
// change. It probes with dry-run creates.
func admissionWorks(ctx context.Context, c *localcluster.Cluster) error {
	for ns, optIn := range map[string]bool{"probe-in": true, "probe-out": false} {
		if err := c.Namespace(ctx, ns, optIn); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		annotated := probePod("probe-in", nil)
		err := c.Client.Create(ctx, annotated, client.DryRunAll)
		switch {
		case err != nil:
			last = err
		case annotated.Annotations[api.StatusAnnotation] != api.StatusPending:
			last = fmt.Errorf("a pod in an opted-in namespace was not annotated: %v", annotated.Annotations)
		default:
			err := c.Client.Create(ctx, probePod("probe-out", map[string]string{api.StatusAnnotation: api.StatusClassified}), client.DryRunAll)
			if isPolicyDenial(err) {
				return nil
			}
			last = fmt.Errorf("a forged result was not refused by the admission policy: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("admission did not take effect within a minute: %w", last)
}

func probePod(ns string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe", Annotations: annotations},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "redis:7"}}},
	}
}

func isPolicyDenial(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "ValidatingAdmissionPolicy")
}

// waitFor polls cond every 50 ms until it holds or timeout passes; a timeout
// names any cluster component that crashed, with its log.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last: %v; crashed components: %v)", timeout, what, last, shared.Crashed())
}

// namespace creates a namespace for one test, opted in to podclass.
func namespace(t *testing.T, c *localcluster.Cluster, name string) {
	t.Helper()
	if err := c.Namespace(context.Background(), name, true); err != nil {
		t.Fatal(err)
	}
}

// podsOf lists the pods matching selector in ns, leaving out terminating ones.
func podsOf(t *testing.T, c *localcluster.Cluster, ns string, selector map[string]string) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := c.Client.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(selector)}); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// waitPods waits until selector matches n pods in ns (none terminating), each
// satisfying ok, and returns them.
func waitPods(t *testing.T, c *localcluster.Cluster, ns string, selector map[string]string, n int, what string, ok func(*corev1.Pod) error) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d pods %s", n, what), func() (bool, error) {
		pods = podsOf(t, c, ns, selector)
		if len(pods) != n {
			return false, fmt.Errorf("%d pods", len(pods))
		}
		for i := range pods {
			if err := ok(&pods[i]); err != nil {
				return false, fmt.Errorf("pod %s: %w", pods[i].Name, err)
			}
		}
		return true, nil
	})
	return pods
}

// running is nil for a Running, Ready pod on a worker node.
func running(p *corev1.Pod) error {
	if !strings.HasPrefix(p.Spec.NodeName, "worker-") {
		return fmt.Errorf("on node %q, want a worker", p.Spec.NodeName)
	}
	if p.Status.Phase != corev1.PodRunning || !ready(p) {
		return fmt.Errorf("phase %s, ready %v", p.Status.Phase, ready(p))
	}
	return nil
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// available waits until the Deployment has replicas pods, all updated and
// available, and no other.
func available(t *testing.T, c *localcluster.Cluster, ns, name string, replicas int32) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	waitFor(t, 2*time.Minute, "Deployment "+ns+"/"+name+" to be Available with "+strconv.Itoa(int(replicas))+" replicas", func() (bool, error) {
		if err := c.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration == d.Generation && s.Replicas == replicas && s.UpdatedReplicas == replicas &&
			s.ReadyReplicas == replicas && s.AvailableReplicas == replicas, fmt.Errorf("status %+v", s)
	})
	return d
}
