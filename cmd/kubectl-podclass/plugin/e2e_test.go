package plugin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/api"
	"github.com/podclass/podclass/classifier"
	"github.com/podclass/podclass/cmd/kubectl-podclass/plugin"
	"github.com/podclass/podclass/internal/harness/testenv"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/lineprotocol"
)

const ownNamespace = "podclass-system"

// recorded is a corpus pod's first window and the embedded model's answer to it.
type recorded struct {
	key     samples.PodKey
	class   string
	answer  classifier.Explanation
	samples []samples.Sample
}

// pickRecordings returns, from the committed corpus, a mysql and an nginx
// pod the embedded model names rightly, and a pod it answers unknown: the
// behaviour the refiner will read for the test's pods.
func pickRecordings(t *testing.T, model *classifier.Classifier) (mysql, nginx, unknown recorded) {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "testdata", "corpus")
	mem, _, err := lineprotocol.LoadFile(context.Background(), filepath.Join(dir, "metrics.lp"), lineprotocol.Options{})
	if err != nil {
		t.Fatalf("loading the corpus: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, "pods.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading pods.csv: %v", err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	window := model.Thresholds().WindowSamples
	var found [3]*recorded
	for _, r := range rows[1:] {
		key := samples.PodKey{Namespace: r[col["namespace"]], Name: r[col["pod_name"]]}
		w := mem.All()[key]
		if w == nil || len(w.Samples) < window {
			continue
		}
		first := &samples.Window{Pod: key, Samples: w.Samples[:window]}
		rec := &recorded{key: key, class: r[col["class"]], answer: model.Explain(first), samples: first.Samples}
		res := rec.answer.Result
		switch {
		case found[0] == nil && rec.class == "mysql" && res.Status == classifier.StatusClassified && res.Class == "mysql" && rec.answer.Path != nil:
			found[0] = rec
		case found[1] == nil && rec.class == "nginx" && res.Status == classifier.StatusClassified && res.Class == "nginx" && rec.answer.Path != nil:
			found[1] = rec
		case found[2] == nil && res.Status == classifier.StatusUnknown:
			found[2] = rec
		}
	}
	for i, what := range []string{"a mysql pod named mysql", "an nginx pod named nginx", "a pod answered unknown"} {
		if found[i] == nil {
			t.Fatalf("the corpus has no %s by the embedded model", what)
		}
		t.Logf("%s: %s (%s): %s", what, found[i].key, found[i].class, found[i].answer)
	}
	return *found[0], *found[1], *found[2]
}

// replayed is a samples.Source serving each pod a recording's samples, moved
// to start a second after the pod's creation, 10 s apart, whatever range is
// asked: the refiner reads a full window at its first tick.
type replayed struct {
	mu      sync.Mutex
	windows map[samples.PodKey]*samples.Window
}

func (r *replayed) add(p *corev1.Pod, rec recorded) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := samples.PodKey{Namespace: p.Namespace, Name: p.Name}
	w := &samples.Window{Pod: key}
	for i, s := range rec.samples {
		s.Time = p.CreationTimestamp.Add(time.Second + time.Duration(i)*10*time.Second)
		w.Samples = append(w.Samples, s)
	}
	r.windows[key] = w
}

func (r *replayed) Windows(_ context.Context, pods []samples.PodKey, _, _ time.Time) (map[samples.PodKey]*samples.Window, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[samples.PodKey]*samples.Window{}
	for _, k := range pods {
		if w := r.windows[k]; w != nil {
			out[k] = &samples.Window{Pod: k, Samples: slices.Clone(w.Samples)}
		}
	}
	return out, nil
}

// runRefiner runs the refiner as the chart does (no leader election here)
// until every pod of namespace is decided and has its Event, then stops it.
func runRefiner(t *testing.T, env *testenv.Env, src samples.Source, model *classifier.Classifier, excluded []string, namespace string, want int) {
	t.Helper()
	o := refiner.ManagerOptions(ownNamespace, "")
	o.LeaderElection = false
	o.Metrics = metricsserver.Options{BindAddress: "0"}
	o.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	mgr, err := ctrl.NewManager(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	opts := refiner.DefaultOptions()
	opts.Interval, opts.MinWindow, opts.Timeout, opts.MaxBackoff = 200*time.Millisecond, time.Second, 4*time.Second, time.Second
	opts.ExcludedNamespaces = excluded
	if _, err := refiner.Setup(mgr, opts, src, refiner.NewModelHolder(model), ownNamespace, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("refiner manager: %v", err)
		}
	}()
	testenv.WaitFor(t, time.Minute, "the refiner to decide every pod of "+namespace+" and record its Event", func() (bool, error) {
		pods := &corev1.PodList{}
		if err := env.Client.List(context.Background(), pods, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.Annotations[api.StatusAnnotation] == api.StatusPending {
				return false, nil
			}
		}
		events := &corev1.EventList{}
		if err := env.Client.List(context.Background(), events, client.InNamespace(namespace)); err != nil {
			return false, err
		}
		return len(pods.Items) == want && len(events.Items) >= want, nil
	})
}

// viewer is a user allowed only what the plugin needs: get and list pods,
// list events.
func viewer(t *testing.T, env *testenv.Env) []byte {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "podclass-viewer"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "podclass-viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "viewer"}}}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	user, err := env.AddUser(envtest.User{Name: "viewer"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// writeKubeconfig writes kc with its context working in namespace shop, and
// a second context "back" working in backoffice.
func writeKubeconfig(t *testing.T, kc []byte) string {
	t.Helper()
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	cur.Namespace = "shop"
	back := cur.DeepCopy()
	back.Namespace = "backoffice"
	cfg.Contexts["back"] = back
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectlPodclass runs the plugin's command in this process.
func kubectlPodclass(t *testing.T, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := plugin.NewCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err := cmd.ExecuteContext(context.Background())
	if errOut.Len() > 0 {
		t.Logf("kubectl podclass %s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// table splits a printed table into rows of fields, the header first.
func table(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// ageRE matches an age as kubectl prints it (4s, 5m3s, 2d).
var ageRE = regexp.MustCompile(`^(\d+[smhdy])+$`)

func TestKubectlPodclassOnARealCluster(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Webhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{testenv.PodWebhook(ownNamespace)}})
	env.ServeWebhook(t)
	ctx := context.Background()
	env.Namespace(t, ownNamespace, false)
	env.Namespace(t, "shop", true)
	env.Namespace(t, "backoffice", true)
	env.Namespace(t, "legacy", false)
	model, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	mysqlRec, nginxRec, unknownRec := pickRecordings(t, model)

	create := func(ns, name string, labels map[string]string, c corev1.Container) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
		if err := env.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Annotated by the real webhook: image guesses, a port guess, an
	// unknown image; a pod in a namespace that did not opt in.
	db := create("shop", "db", map[string]string{"app": "db"}, corev1.Container{Name: "mariadb", Image: "mariadb:11.4"})
	ledger := create("shop", "ledger", map[string]string{"app": "ledger"}, corev1.Container{Name: "ledger", Image: "ghcr.io/acme/ledger:2",
		Ports: []corev1.ContainerPort{{ContainerPort: 6379}}})
	mystery := create("shop", "mystery", nil, corev1.Container{Name: "app", Image: "acme/mystery:1"})
	create("shop", "silent", nil, corev1.Container{Name: "redis", Image: "redis:7"})
	create("backoffice", "cache", map[string]string{"app": "cache"}, corev1.Container{Name: "redis", Image: "redis:7"})
	create("legacy", "old", map[string]string{"app": "old"}, corev1.Container{Name: "mysql", Image: "mysql:8"})

	// The refiner reads recorded behaviour for three of shop's pods, none
	// for silent (unclassified at its timeout), and leaves backoffice alone
	// (cache stays pending).
	src := &replayed{windows: map[samples.PodKey]*samples.Window{}}
	src.add(db, mysqlRec)
	src.add(ledger, nginxRec)
	src.add(mystery, unknownRec)
	runRefiner(t, env, src, model, []string{"backoffice"}, "shop", 4)

	kubeconfig := writeKubeconfig(t, viewer(t, env))
	modelVersion := model.Manifest().ModelVersion

	t.Run("get lists the context's namespace: every decision, its source and age", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "get")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kubectl podclass get\n%s", out)
		rows := table(t, out)
		want := [][]string{
			{"NAME", "CLASS", "STATUS", "CONFIDENCE", "SOURCE", "DECIDED", "AGE"},
			{"db", "mysql", "classified", conf(mysqlRec), "metrics"},
			{"ledger", "nginx", "classified", conf(nginxRec), "metrics"},
			{"mystery", "unknown", "unknown", conf(unknownRec), "metrics"},
			{"silent", "redis", "unclassified", "0.95", "image"},
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), out)
		}
		if !slices.Equal(rows[0], want[0]) {
			t.Errorf("header %v, want %v", rows[0], want[0])
		}
		for i, w := range want[1:] {
			r := rows[i+1]
			if len(r) != 7 || !slices.Equal(r[:5], w) || !ageRE.MatchString(r[5]) || !ageRE.MatchString(r[6]) {
				t.Errorf("row %v, want %v then two ages", r, w)
			}
		}
	})

	t.Run("get -n shows the real webhook's pending guess", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "get", "-n", "backoffice")
		if err != nil {
			t.Fatal(err)
		}
		rows := table(t, out)
		if len(rows) != 2 || !slices.Equal(rows[1][:6], []string{"cache", "redis", "pending", "0.95", "image", "<none>"}) {
			t.Errorf("kubectl podclass get -n backoffice printed\n%s\nwant cache pending with the image guess redis 0.95, undecided", out)
		}
	})

	t.Run("--context picks the kubeconfig's other context and its namespace", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "--context", "back", "get", "--no-headers")
		if err != nil {
			t.Fatal(err)
		}
		if rows := table(t, out); len(rows) != 1 || rows[0][0] != "cache" {
			t.Errorf("kubectl podclass --context back get printed\n%s\nwant backoffice's cache only", out)
		}
	})

	t.Run("get -A -l filters by label across namespaces, the unannotated pod included", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "get", "-A", "-l", "app", "-o", "wide")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kubectl podclass get -A -l app -o wide\n%s", out)
		var got []string
		for _, r := range table(t, out)[1:] {
			got = append(got, r[0]+"/"+r[1]+" "+r[2]+" "+r[3]+" image-class="+r[9]+" features="+r[10])
		}
		want := []string{
			"backoffice/cache redis pending image-class=redis features=<none>",
			"legacy/old <none> <none> image-class=<none> features=<none>",
			"shop/db mysql classified image-class=mysql features=" + string(mysqlRec.answer.Result.FeatureSet),
			"shop/ledger nginx classified image-class=unknown features=" + string(nginxRec.answer.Result.FeatureSet),
		}
		if !slices.Equal(got, want) {
			t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("get -o json carries the refiner's explanation, parsed", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "get", "-o", "json", "db", "ledger")
		if err != nil {
			t.Fatal(err)
		}
		var list plugin.PodClassList
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if len(list.Items) != 2 {
			t.Fatalf("%d items, want db and ledger:\n%s", len(list.Items), out)
		}
		db, ledger := list.Items[0], list.Items[1]
		if db.Name != "db" || db.Model != modelVersion || db.ClassifiedAt == nil || db.Confidence == nil || db.Family != "database" {
			t.Errorf("db: %+v", db)
		}
		x := db.Explanation
		if x == nil || !x.Parsed || x.Class != "mysql" || x.FeatureSet != string(mysqlRec.answer.Result.FeatureSet) || len(x.Path) == 0 || len(x.Path) > len(mysqlRec.answer.Path.Steps) {
			t.Errorf("db's explanation %+v, want the refiner's for %s", x, mysqlRec.answer)
		} else if x.Path[0].Feature != mysqlRec.answer.Path.Steps[0].Feature {
			t.Errorf("db's path starts at %s, the model's at %s", x.Path[0].Feature, mysqlRec.answer.Path.Steps[0].Feature)
		}
		if ledger.ImageClass != api.ClassUnknown || ledger.Class != "nginx" {
			t.Errorf("ledger: %+v, want image class unknown (a port guess) and nginx by behaviour", ledger)
		}
	})

	t.Run("explain shows the path, the guess against behaviour and the refiner's Event", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "explain", "db")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kubectl podclass explain db\n%s", out)
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^Pod:\s+shop/db$`),
			regexp.MustCompile(`(?m)^Containers:\s+mariadb: mariadb:11\.4$`),
			regexp.MustCompile(`(?m)^Image guess:\s+mysql, from the images$`),
			regexp.MustCompile(`(?m)^Behaviour:\s+mysql, confidence ` + regexp.QuoteMeta(conf(mysqlRec)) + `$`),
			regexp.MustCompile(`(?m)^Verdict:\s+behaviour confirms the guess$`),
			regexp.MustCompile(`(?m)^Model:\s+` + regexp.QuoteMeta(modelVersion) + `$`),
			regexp.MustCompile(`(?m)^  Feature set:\s+` + string(mysqlRec.answer.Result.FeatureSet) + ` `),
			regexp.MustCompile(`(?m)^    1\. ` + regexp.QuoteMeta(mysqlRec.answer.Path.Steps[0].Feature) + ` = `),
			regexp.MustCompile(`(?m)^  Normal\s+Classified\s+\S+\s+podclass-refiner\s+podclass: mysql \(status classified`),
		} {
			if !want.MatchString(out) {
				t.Errorf("explain db does not match %s", want)
			}
		}
	})

	t.Run("explain of a port guess that behaviour overruled", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "explain", "ledger")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m)^Verdict:\s+behaviour named what the images did not$`).MatchString(out) {
			t.Errorf("explain ledger printed\n%s", out)
		}
	})

	t.Run("explain of an unclassified, a pending and an unannotated pod", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"explain", "silent"}, `(?m)^Behaviour:\s+none: no usable metrics within 4s$`},
			{[]string{"explain", "silent"}, `(?m)^  Warning\s+Unclassified\s+\S+\s+podclass-refiner\s+`},
			{[]string{"explain", "-n", "backoffice", "cache"}, `(?m)^Behaviour:\s+not decided yet \(pending`},
			{[]string{"explain", "-n", "legacy", "old"}, `(?m)^Why:\s+podclass has not annotated this pod: its namespace has not opted in`},
			{[]string{"explain", "mystery"}, `(?m)^Verdict:\s+neither the images nor behaviour name a class$`},
		} {
			out, err := kubectlPodclass(t, kubeconfig, tc.args...)
			if err != nil {
				t.Fatalf("%v: %v", tc.args, err)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("%v printed\n%s\nwant a match for %s", tc.args, out, tc.want)
			}
		}
	})

	t.Run("stats counts per class and status, in the namespace and across all", func(t *testing.T) {
		out, err := kubectlPodclass(t, kubeconfig, "stats", "-A")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kubectl podclass stats -A\n%s", out)
		want := strings.Join([]string{
			"CLASS             PENDING   CLASSIFIED   UNKNOWN   UNCLASSIFIED   TOTAL",
			"mysql             0         1            0         0              1",
			"nginx             0         1            0         0              1",
			"redis             1         0            0         1              2",
			"unknown           0         0            1         0              1",
			"<not annotated>   0         0            0         0              1",
			"TOTAL             1         2            1         1              6",
		}, "\n") + "\n"
		if out != want {
			t.Errorf("stats -A printed\n%s\nwant\n%s", out, want)
		}
		out, err = kubectlPodclass(t, kubeconfig, "stats", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var st plugin.Stats
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatal(err)
		}
		if st.Namespace != "shop" || st.Total != 4 || st.NotAnnotated != 0 || st.Statuses[api.StatusClassified] != 2 {
			t.Errorf("stats -o json in shop: %+v", st)
		}
	})

	t.Run("a user with no rights gets the apiserver's refusal", func(t *testing.T) {
		user, err := env.AddUser(envtest.User{Name: "stranger"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := user.KubeConfig()
		if err != nil {
			t.Fatal(err)
		}
		_, err = kubectlPodclass(t, writeKubeconfig(t, kc), "get")
		if err == nil || !strings.Contains(err.Error(), `listing pods: pods is forbidden: User "stranger" cannot list resource "pods"`) {
			t.Errorf("error %v, want the apiserver's forbidden, wrapped", err)
		}
	})

	t.Run("the built binary answers as kubectl's plugin", func(t *testing.T) {
		dir := t.TempDir()
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-podclass"), "github.com/podclass/podclass/cmd/kubectl-podclass")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		bin := exec.Command(filepath.Join(dir, "kubectl-podclass"), "--kubeconfig", kubeconfig, "stats", "-n", "backoffice", "--no-headers")
		out, err := bin.CombinedOutput()
		if err != nil || string(out) != "redis   1     0     0     0     1\nTOTAL   1     0     0     0     1\n" {
			t.Errorf("kubectl-podclass stats -n backoffice: %v\n%s", err, out)
		}
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("no kubectl on PATH: the plugin was run directly, not through kubectl")
		}
		via := exec.Command(kubectl, "podclass", "--kubeconfig", kubeconfig, "get", "-n", "backoffice", "--no-headers")
		via.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err = via.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "cache ") {
			t.Errorf("kubectl podclass get -n backoffice: %v\n%s", err, out)
		}
	})
}

// conf is the confidence the refiner writes for a recording's answer.
func conf(r recorded) string { return strconv.FormatFloat(r.answer.Result.Confidence, 'f', 2, 64) }
