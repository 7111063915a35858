package localcluster

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/tools"
)

// ClusterOptions turn the bare control plane into a cluster: the controllers
// that turn Deployments, StatefulSets, Jobs and CronJobs into pods
// (kube-controller-manager), the scheduler that binds them to nodes
// (kube-scheduler), and nodes whose kubelet kwok simulates — pods go
// Pending → Running, Job pods complete, deleted pods go away — without a
// container runtime.
type ClusterOptions struct {
	// KubeBinDir holds kube-controller-manager and kube-scheduler; empty
	// means tools.KubeBinDir().
	KubeBinDir string
	// Kwok is the kwok binary; empty means tools.Kwok().
	Kwok string
	// Nodes are the simulated nodes; empty means DefaultNodes(3).
	Nodes []Node
	// PodStartDelay is how long a scheduled pod stays Pending before kwok
	// reports it Running (plus up to as much again, at random); zero
	// starts it at once.
	PodStartDelay time.Duration
	// LogDir receives kube-controller-manager.log, kube-scheduler.log and
	// kwok.log; empty keeps them in a directory Stop removes.
	LogDir string
}

// Node is a simulated node.
type Node struct {
	Name   string
	Labels map[string]string
	Taints []corev1.Taint
	// CPU, Memory and Pods are its capacity and allocatable: 16 cores,
	// 64Gi and 110 pods when empty.
	CPU, Memory, Pods string
}

// DefaultNodes returns n worker nodes, kwok-node-0 …
func DefaultNodes(n int) []Node {
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{Name: fmt.Sprintf("kwok-node-%d", i)}
	}
	return out
}

// Kwok's annotations and labels on what it manages.
const (
	// KwokNodeAnnotation marks the nodes kwok manages (and so every node
	// this package creates): kwok.x-k8s.io/node=fake.
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	// CompleteAfterAnnotation on a Job's pod (its template) is how long
	// kwok lets the pod run before it reports it Succeeded, as a Go
	// duration ("90s"); without it the pod completes as soon as it runs.
	CompleteAfterAnnotation = "pod-complete.stage.kwok.x-k8s.io/delay"
)

// Component timeouts: a busy 2-core machine needs seconds where an idle one
// needs milliseconds; a timeout this long only delays a real failure.
const (
	componentStartTimeout = 2 * time.Minute
	componentStopGrace    = 10 * time.Second
)

//go:embed kwok-stages.yaml
var kwokStages string

// clusterBinaries returns the binaries a cluster needs beyond etcd and
// kube-apiserver, or an error naming the hack/tools.sh target that builds
// the first one missing.
func clusterBinaries(o *ClusterOptions) (kcm, scheduler, kwok string, err error) {
	dir := o.KubeBinDir
	if dir == "" {
		dir = tools.KubeBinDir()
	}
	kwok = o.Kwok
	if kwok == "" {
		kwok = tools.Kwok()
	}
	kcm, scheduler = filepath.Join(dir, "kube-controller-manager"), filepath.Join(dir, "kube-scheduler")
	for _, bin := range []string{kcm, scheduler, kwok} {
		if err := tools.Missing(bin, "cluster"); err != nil {
			return "", "", "", err
		}
	}
	return kcm, scheduler, kwok, nil
}

// startCluster starts kube-controller-manager, kube-scheduler and kwok
// against the running control plane, creates the nodes and returns once the
// nodes are Ready and both components answer /healthz. Each start is added
// to c.stops as it happens, so the caller's Stop undoes a partial start.
func (c *Cluster) startCluster(ctx context.Context, o *ClusterOptions, work string) error {
	kcmBin, schedulerBin, kwokBin, err := clusterBinaries(o)
	if err != nil {
		return err
	}
	logDir := o.LogDir
	if logDir == "" {
		logDir = filepath.Join(work, "logs")
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	// Each component connects as its own user, as in a kubeadm cluster:
	// the scheduler with the bootstrap RBAC of system:kube-scheduler; the
	// controller manager (one identity for every controller:
	// --use-service-account-credentials=false) and kwok (every simulated
	// kubelet) as cluster admins.
	kubeconfig := func(name string, groups ...string) (string, error) {
		return c.writeKubeconfig(filepath.Join(work, strings.ReplaceAll(name, ":", "-")+".kubeconfig"), envtest.User{Name: name, Groups: groups})
	}
	kcmKC, err := kubeconfig("system:kube-controller-manager", "system:masters")
	if err != nil {
		return err
	}
	schedulerKC, err := kubeconfig("system:kube-scheduler")
	if err != nil {
		return err
	}
	kwokKC, err := kubeconfig("system:kwok", "system:masters")
	if err != nil {
		return err
	}

	apiCerts := c.Env.ControlPlane.APIServer.CertDir
	kcmPort, err := freeport.Loopback()
	if err != nil {
		return err
	}
	kcm, err := c.start("kube-controller-manager", kcmBin, logDir,
		"--kubeconfig="+kcmKC,
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		// Nothing here has a cloud, allocates node CIDRs or serves the
		// metrics API; the service-account token controller signs with the
		// apiserver's own key, so the tokens it issues are valid.
		"--controllers=*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller,-node-ipam-controller,-horizontal-pod-autoscaler-controller",
		"--service-account-private-key-file="+filepath.Join(apiCerts, "sa-signer.key"),
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort), "--cert-dir="+filepath.Join(work, "kcm-certs"),
		"--kube-api-qps=100", "--kube-api-burst=200",
		"--v=2")
	if err != nil {
		return err
	}
	schedulerPort, err := freeport.Loopback()
	if err != nil {
		return err
	}
	scheduler, err := c.start("kube-scheduler", schedulerBin, logDir,
		"--kubeconfig="+schedulerKC,
		"--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedulerPort), "--cert-dir="+filepath.Join(work, "scheduler-certs"),
		"--v=2")
	if err != nil {
		return err
	}
	stages := filepath.Join(work, "kwok-stages.yaml")
	if err := os.WriteFile(stages, []byte(stagesFor(o.PodStartDelay)), 0o600); err != nil {
		return err
	}
	kwokPort, err := freeport.Loopback()
	if err != nil {
		return err
	}
	kwok, err := c.start("kwok", kwokBin, logDir,
		"--kubeconfig="+kwokKC,
		"--config="+stages,
		"--manage-nodes-with-annotation-selector="+KwokNodeAnnotation+"=fake",
		"--cidr=10.244.0.0/16",
		// Renew each node's Lease as a kubelet does, so the node-lifecycle
		// controller keeps the nodes Ready (and untainted) past its 50 s grace.
		"--node-lease-duration-seconds=40",
		"--server-address=127.0.0.1:"+strconv.Itoa(kwokPort))
	if err != nil {
		return err
	}
	if err := kwok.waitHealthy(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", kwokPort), componentStartTimeout); err != nil {
		return err
	}
	nodes := o.Nodes
	if len(nodes) == 0 {
		nodes = DefaultNodes(3)
	}
	for _, n := range nodes {
		if err := c.Client.Create(ctx, nodeObject(n)); err != nil {
			return fmt.Errorf("creating node %s: %w", n.Name, err)
		}
		c.Nodes = append(c.Nodes, n.Name)
	}
	if err := scheduler.waitHealthy(ctx, fmt.Sprintf("https://127.0.0.1:%d/healthz", schedulerPort), componentStartTimeout); err != nil {
		return err
	}
	if err := kcm.waitHealthy(ctx, fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort), componentStartTimeout); err != nil {
		return err
	}
	// The controllers run once their informers synced: the service-account
	// controller's first act is the default ServiceAccount of each namespace.
	if err := c.waitFor(ctx, "kube-controller-manager's controllers to run (the default ServiceAccount)", func() (bool, error) {
		err := c.Client.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceDefault, Name: "default"}, &corev1.ServiceAccount{})
		return err == nil, client.IgnoreNotFound(err)
	}); err != nil {
		return err
	}
	return c.waitFor(ctx, "the nodes to be Ready", func() (bool, error) { return c.nodesReady(ctx) })
}

// start starts a component and registers its stop.
func (c *Cluster) start(name, bin, logDir string, args ...string) (*component, error) {
	p, err := startComponent(name, bin, args, logDir)
	if err != nil {
		return nil, err
	}
	c.components = append(c.components, p)
	c.stops = append(c.stops, func() error { return p.stop(componentStopGrace) })
	return p, nil
}

// writeKubeconfig provisions user on the apiserver and writes a kubeconfig
// for it to path.
func (c *Cluster) writeKubeconfig(path string, user envtest.User) (string, error) {
	u, err := c.Env.AddUser(user, nil)
	if err != nil {
		return "", fmt.Errorf("provisioning user %s: %w", user.Name, err)
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// stagesFor is kwok's stage configuration with the pod start delay filled in.
func stagesFor(delay time.Duration) string {
	ms := delay.Milliseconds()
	return strings.NewReplacer("POD_READY_DELAY_MS", strconv.FormatInt(ms, 10), "POD_READY_JITTER_MS", strconv.FormatInt(2*ms, 10)).Replace(kwokStages)
}

// nodeObject is the Node kwok takes over: its annotation, the well-known
// labels a kubelet sets, and room for the pods.
func nodeObject(n Node) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname: n.Name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		"type": "kwok",
	}
	maps.Copy(labels, n.Labels)
	q := func(s, def string) resource.Quantity {
		if s == "" {
			s = def
		}
		return resource.MustParse(s)
	}
	room := corev1.ResourceList{
		corev1.ResourceCPU: q(n.CPU, "16"), corev1.ResourceMemory: q(n.Memory, "64Gi"), corev1.ResourcePods: q(n.Pods, "110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: labels, Annotations: map[string]string{KwokNodeAnnotation: "fake"}},
		Spec:       corev1.NodeSpec{Taints: n.Taints},
		Status:     corev1.NodeStatus{Capacity: room, Allocatable: room.DeepCopy()},
	}
}

// nodesReady says whether every node of the cluster reports Ready.
func (c *Cluster) nodesReady(ctx context.Context) (bool, error) {
	for _, name := range c.Nodes {
		n := &corev1.Node{}
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return false, err
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
		}
		if !ready {
			return false, fmt.Errorf("node %s is not Ready yet", name)
		}
	}
	return true, nil
}

// waitFor polls cond every 50 ms until it holds, a component crashes (the
// error carries its log) or componentStartTimeout passes.
func (c *Cluster) waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, componentStartTimeout)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if err := c.Crashed(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Crashed returns an error for each of the cluster's components
// (kube-controller-manager, kube-scheduler, kwok) that has exited on its
// own, with the end of its log; nil while all run. A test whose wait times
// out calls it to say why.
func (c *Cluster) Crashed() error {
	var errs []error
	for _, p := range c.components {
		errs = append(errs, p.crashed())
	}
	return errors.Join(errs...)
}

// Cordon marks a node unschedulable, or schedulable again, as `kubectl
// cordon`/`uncordon` do.
func (c *Cluster) Cordon(ctx context.Context, node string, unschedulable bool) error {
	n := &corev1.Node{}
	if err := c.Client.Get(ctx, client.ObjectKey{Name: node}, n); err != nil {
		return err
	}
	patch := client.MergeFrom(n.DeepCopy())
	n.Spec.Unschedulable = unschedulable
	if err := c.Client.Patch(ctx, n, patch); err != nil {
		return fmt.Errorf("cordoning %s: %w", node, err)
	}
	return nil
}
