package cluster_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podclass/podclass/internal/harness/localcluster"
)

// components are the chart's Deployments, each with a PodDisruptionBudget
// of the same name (minAvailable 1 of 2 replicas).
var components = []string{"podclass-webhook", "podclass-refiner"}

// TestTheChartsDeploymentsBecomeAvailable: `helm install --wait` returned
// (TestMain); both Deployments are Available with their two replicas on
// different system nodes, and the disruption controller has computed their
// budgets: one pod of each may go.
func TestTheChartsDeploymentsBecomeAvailable(t *testing.T) {
	c := world(t)
	t.Logf("cluster up in %s; chart installed, webhook redirected and admission in force %s later",
		startTook.Round(time.Millisecond), installTook.Round(time.Millisecond))
	for _, name := range components {
		d := available(t, c, releaseNamespace, name, 2)
		pods := podsOf(t, c, releaseNamespace, d.Spec.Selector.MatchLabels)
		var nodes []string
		for _, p := range pods {
			if !strings.HasPrefix(p.Spec.NodeName, "system-") {
				t.Errorf("%s pod %s on node %q: the chart's nodeSelector and tolerations put it on a system node", name, p.Name, p.Spec.NodeName)
			}
			nodes = append(nodes, p.Spec.NodeName)
		}
		if slices.Sort(nodes); len(slices.Compact(nodes)) != 2 {
			t.Errorf("%s replicas on nodes %v: the chart's anti-affinity spreads them over two", name, nodes)
		}
		waitBudget(t, c, name, 2)
	}
}

// TestANodeDrainKeepsAWebhookReplicaReady drains, as `kubectl drain
// --ignore-daemonsets --delete-emptydir-data` does (cordon, then an Eviction
// per pod, retried while a PodDisruptionBudget refuses it), the node that
// holds both replicas of the webhook and of the refiner. The budgets let one
// replica of each go and refuse the other until its replacement is Ready
// elsewhere: through the drain, at least one replica of each is Ready at
// every moment (watched on every pod event), and the drain completes.
func TestANodeDrainKeepsAWebhookReplicaReady(t *testing.T) {
	c := world(t)
	t.Parallel()
	ctx := context.Background()
	const target = "system-0"
	others := []string{"system-1", "system-2"}
	t.Cleanup(func() {
		for _, n := range append(others, target) {
			_ = c.Cordon(context.Background(), n, false)
		}
	})

	// Both replicas of each component onto the target: the other system
	// nodes cordoned, a rollout restart (kubectl rollout restart).
	for _, n := range others {
		if err := c.Cordon(ctx, n, true); err != nil {
			t.Fatal(err)
		}
	}
	selectors := map[string]labels.Selector{}
	for _, name := range components {
		d := available(t, c, releaseNamespace, name, 2)
		selectors[name] = labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
		restart(t, c, d)
	}
	for _, name := range components {
		d := available(t, c, releaseNamespace, name, 2)
		waitFor(t, 2*time.Minute, "both "+name+" pods on "+target, func() (bool, error) {
			all, there := podsOf(t, c, releaseNamespace, d.Spec.Selector.MatchLabels), onNode(t, c, target, selectors[name])
			return len(all) == 2 && len(there) == 2, fmt.Errorf("%d pods, %d on %s", len(all), len(there), target)
		})
		waitBudget(t, c, name, 2)
	}
	w := watchReady(t, c, selectors, 2)

	// kubectl drain system-0.
	if err := c.Cordon(ctx, target, true); err != nil {
		t.Fatal(err)
	}
	// Nowhere for a replacement to go yet: the first eviction of each
	// component is allowed, the second would leave none Ready and is refused.
	for _, name := range components {
		pods := onNode(t, c, target, selectors[name])
		if len(pods) != 2 {
			t.Fatalf("%d %s pods on %s, want 2", len(pods), name, target)
		}
		if err := evict(ctx, c, &pods[0]); err != nil {
			t.Fatalf("evicting %s (one of two Ready %s pods): %v", pods[0].Name, name, err)
		}
		err := evict(ctx, c, &pods[1])
		if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "disruption budget") {
			t.Errorf("evicting %s, the last Ready %s pod: %v; want 429 refused by its PodDisruptionBudget", pods[1].Name, name, err)
		}
	}
	for _, n := range others {
		if err := c.Cordon(ctx, n, false); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	refused := drain(t, c, target)
	t.Logf("drained %s in %s; %d evictions refused by a budget and retried", target, time.Since(t0).Round(time.Millisecond), refused)
	for _, name := range components {
		d := available(t, c, releaseNamespace, name, 2)
		for _, p := range podsOf(t, c, releaseNamespace, d.Spec.Selector.MatchLabels) {
			if p.Spec.NodeName == target {
				t.Errorf("%s pod %s still on the drained node", name, p.Name)
			}
		}
	}
	for _, name := range components {
		if lowest := w.lowest(name); lowest != 1 {
			t.Errorf("%s: the fewest Ready replicas during the drain was %d, want 1 (never 0: the budget; not 2: the drain took one)", name, lowest)
		}
	}
}

// TestTheTrainerCronJobCreatesItsJobOnSchedule: the chart's trainer CronJob
// (scheduled every minute here) gets its Job from the CronJob controller —
// not from a test creating it — and the Job controller runs it to completion
// on a system node.
func TestTheTrainerCronJobCreatesItsJobOnSchedule(t *testing.T) {
	c := world(t)
	t.Parallel()
	ctx := context.Background()
	var job batchv1.Job
	waitFor(t, 3*time.Minute, "the CronJob controller to create a trainer Job", func() (bool, error) {
		list := &batchv1.JobList{}
		if err := c.Client.List(ctx, list, client.InNamespace(releaseNamespace)); err != nil {
			return false, err
		}
		for _, j := range list.Items {
			if ref := metav1.GetControllerOf(&j); ref != nil && ref.Kind == "CronJob" && ref.Name == "podclass-trainer" {
				job = j
				return true, nil
			}
		}
		return false, nil
	})
	if job.Annotations[batchv1.CronJobScheduledTimestampAnnotation] == "" {
		t.Errorf("Job %s lacks %s: not created by the CronJob controller", job.Name, batchv1.CronJobScheduledTimestampAnnotation)
	}
	// The controller writes the CronJob's status after creating the Job.
	waitFor(t, 30*time.Second, "the CronJob's status to record the run", func() (bool, error) {
		cj := &batchv1.CronJob{}
		err := c.Client.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: "podclass-trainer"}, cj)
		return err == nil && cj.Status.LastScheduleTime != nil, err
	})
	waitFor(t, 2*time.Minute, "Job "+job.Name+" to complete", func() (bool, error) {
		j := &batchv1.Job{}
		err := c.Client.Get(ctx, client.ObjectKeyFromObject(&job), j)
		return err == nil && j.Status.Succeeded >= 1, err
	})
	pods := &corev1.PodList{}
	if err := c.Client.List(ctx, pods, client.InNamespace(releaseNamespace), client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Spec.NodeName, "system-") {
			t.Errorf("trainer pod %s ran on %q, want a system node", p.Name, p.Spec.NodeName)
		}
	}
	t.Logf("Job %s created at %s by the CronJob controller", job.Name, job.CreationTimestamp.Format(time.RFC3339))
}

// waitBudget waits until the disruption controller has seen the component's
// healthy pods: healthy of them Ready, one disruption allowed.
func waitBudget(t *testing.T, c *localcluster.Cluster, name string, healthy int32) {
	t.Helper()
	waitFor(t, time.Minute, "PodDisruptionBudget "+name+" to allow one disruption", func() (bool, error) {
		pdb := &policyv1.PodDisruptionBudget{}
		if err := c.Client.Get(context.Background(), client.ObjectKey{Namespace: releaseNamespace, Name: name}, pdb); err != nil {
			return false, err
		}
		s := pdb.Status
		return s.ObservedGeneration == pdb.Generation && s.CurrentHealthy == healthy && s.DisruptionsAllowed == 1, fmt.Errorf("status %+v", s)
	})
}

// restart is `kubectl rollout restart`.
func restart(t *testing.T, c *localcluster.Cluster, d *appsv1.Deployment) {
	t.Helper()
	patch := client.MergeFrom(d.DeepCopy())
	if d.Spec.Template.Annotations == nil {
		d.Spec.Template.Annotations = map[string]string{}
	}
	d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = time.Now().Format(time.RFC3339Nano)
	if err := c.Client.Patch(context.Background(), d, patch); err != nil {
		t.Fatal(err)
	}
}

// onNode lists the pods on node matching selector (all of them if nil),
// leaving out terminating ones.
func onNode(t *testing.T, c *localcluster.Cluster, node string, selector labels.Selector) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	opts := []client.ListOption{client.MatchingFields{"spec.nodeName": node}}
	if selector != nil {
		opts = append(opts, client.MatchingLabelsSelector{Selector: selector})
	}
	if err := c.Client.List(context.Background(), list, opts...); err != nil {
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

// evict asks the eviction API to evict the pod, as kubectl drain does.
func evict(ctx context.Context, c *localcluster.Cluster, p *corev1.Pod) error {
	return c.Client.SubResource("eviction").Create(ctx, p, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}})
}

// drain evicts every pod on the (cordoned) node, retrying each eviction a
// budget refuses, until none is left, and returns how many were refused.
func drain(t *testing.T, c *localcluster.Cluster, node string) (refused int) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, 2*time.Minute, "node "+node+" to be drained", func() (bool, error) {
		pods := onNode(t, c, node, nil)
		for i := range pods {
			err := evict(ctx, c, &pods[i])
			switch {
			case apierrors.IsTooManyRequests(err):
				refused++
			case err != nil && !apierrors.IsNotFound(err):
				return false, err
			}
		}
		return len(pods) == 0, fmt.Errorf("%d pods left", len(pods))
	})
	return refused
}

// readyWatch follows, event by event, how many pods of each component are
// Ready and not terminating — what a PodDisruptionBudget counts as healthy —
// and keeps the fewest it saw.
type readyWatch struct {
	mu sync.Mutex
	// armed is set once the informer's initial adds are in: before, the
	// counts rise from zero.
	armed     bool
	selectors map[string]labels.Selector
	healthy   map[string]bool // namespace/name → Ready and not terminating
	component map[string]string
	min       map[string]int
}

// watchReady starts a readyWatch on the release namespace's pods, for as
// long as the test runs. It returns once each component's count is want,
// with the minimum armed.
func watchReady(t *testing.T, c *localcluster.Cluster, selectors map[string]labels.Selector, want int) *readyWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pods, err := cache.New(c.Config, cache.Options{DefaultNamespaces: map[string]cache.Config{releaseNamespace: {}}})
	if err != nil {
		t.Fatal(err)
	}
	inf, err := pods.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	w := &readyWatch{selectors: selectors, healthy: map[string]bool{}, component: map[string]string{}, min: map[string]int{}}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.observe(o, false) },
		UpdateFunc: func(_, o any) { w.observe(o, false) },
		DeleteFunc: func(o any) { w.observe(o, true) },
	}); err != nil {
		t.Fatal(err)
	}
	go func() { _ = pods.Start(ctx) }()
	if !pods.WaitForCacheSync(ctx) {
		t.Fatal("the pod informer did not sync")
	}
	waitFor(t, time.Minute, "the watch to see every component's pods Ready", func() (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for name := range selectors {
			if n := w.count(name); n != want {
				return false, fmt.Errorf("%s: %d Ready", name, n)
			}
		}
		for name := range selectors {
			w.min[name] = want
		}
		w.armed = true
		return true, nil
	})
	return w
}

// count is how many of the component's pods are healthy; w.mu held.
func (w *readyWatch) count(name string) int {
	n := 0
	for k, h := range w.healthy {
		if h && w.component[k] == name {
			n++
		}
	}
	return n
}

func (w *readyWatch) observe(o any, deleted bool) {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o, deleted = d.Obj, true
	}
	p, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	key := p.Namespace + "/" + p.Name
	for name, sel := range w.selectors {
		if sel.Matches(labels.Set(p.Labels)) {
			w.component[key] = name
		}
	}
	name, ok := w.component[key]
	if !ok {
		return
	}
	if deleted {
		delete(w.healthy, key)
	} else {
		w.healthy[key] = p.DeletionTimestamp == nil && ready(p)
	}
	if n := w.count(name); w.armed && n < w.min[name] {
		w.min[name] = n
	}
}

// lowest is the fewest healthy pods of the component seen since it was armed.
func (w *readyWatch) lowest(name string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.min[name]
}
