package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/podclass/podclass/certs"
	"github.com/podclass/podclass/imagerules"
	"github.com/podclass/podclass/internal/harness/freeport"
	"github.com/podclass/podclass/internal/harness/influxd"
	"github.com/podclass/podclass/internal/harness/localcluster"
	"github.com/podclass/podclass/modelstore"
	"github.com/podclass/podclass/refiner"
	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/influx"
	"github.com/podclass/podclass/trainer"
	"github.com/podclass/podclass/webhook"
)

const (
	ownNamespace   = "podclass-system"
	configName     = "podclass"
	modelConfigMap = "podclass-model"
)

// Options configure a demo run.
type Options struct {
	// AssetsDir holds etcd and kube-apiserver (KUBEBUILDER_ASSETS).
	AssetsDir string
	// KubeBinDir holds kube-controller-manager and kube-scheduler.
	KubeBinDir string
	// Kwok is the kwok binary that simulates the nodes.
	Kwok string
	// Nodes is how many simulated nodes the cluster has.
	Nodes int
	// InfluxBinary is the influxd to run.
	InfluxBinary string
	// CorpusDir holds the recorded metrics.lp and pods.csv.
	CorpusDir string
	// ReportDir receives report.html, the training report and demo.log.
	ReportDir string
	// Out is the terminal.
	Out io.Writer
	// Live redraws the table in place (a terminal); otherwise changes are
	// printed as lines.
	Live bool
	// Deadline bounds the whole run after the workloads are created.
	Deadline time.Duration
	// Interval is the refiner's tick.
	Interval time.Duration
}

// Run runs the demo until every opted-in pod is decided, Deadline passes or
// ctx is cancelled, and stops everything it started before returning.
func Run(ctx context.Context, o Options) (err error) {
	if err := os.MkdirAll(o.ReportDir, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.ReportDir, "demo.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	// The components log to demo.log; the terminal shows the table.
	fileLog := textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(logFile), textlogger.Verbosity(2)))
	ctrl.SetLogger(fileLog)
	klog.SetLogger(fileLog) // client-go (leader election, informers) logs through klog
	defer klog.ClearLogger()
	ui := newUI(o.Out, o.Live)

	ui.step("loading the recorded corpus from %s", o.CorpusDir)
	c, err := loadCorpus(ctx, o.CorpusDir)
	if err != nil {
		return err
	}
	const window = 6
	workloads, trainPods := c.scenario(window)
	if len(workloads) == 0 {
		return errors.New("the corpus has no class with 3 pods long enough to replay")
	}

	ui.step("starting kube-apiserver and etcd (%s)", o.AssetsDir)
	ui.step("starting kube-controller-manager, kube-scheduler and kwok: %d simulated nodes (logs in %s)", o.Nodes, filepath.Join(o.ReportDir, "cluster"))
	ui.step("starting InfluxDB %s", influxd.Version)
	cluster, err := localcluster.Start(localcluster.Options{AssetsDir: o.AssetsDir, Influxd: o.InfluxBinary, Cluster: &localcluster.ClusterOptions{
		KubeBinDir: o.KubeBinDir, Kwok: o.Kwok, Nodes: localcluster.DefaultNodes(o.Nodes),
		// Long enough to see a scheduled pod Pending before it runs.
		PodStartDelay: 2 * time.Second, LogDir: filepath.Join(o.ReportDir, "cluster"),
	}})
	if err != nil {
		return err
	}
	defer func() {
		ui.step("stopping kwok, kube-scheduler and kube-controller-manager")
		ui.step("stopping InfluxDB")
		ui.step("stopping kube-apiserver and etcd")
		if err := cluster.Stop(); err != nil {
			ui.step("stopping: %v", err)
		}
	}()
	cfg, kube, db := cluster.Config, cluster.Client, cluster.Influx
	for ns, optIn := range map[string]bool{ownNamespace: false, optedIn: true, "legacy": false} {
		if err := cluster.Namespace(ctx, ns, optIn); err != nil {
			return err
		}
	}

	ui.step("starting the webhook with self-managed certificates")
	stopWebhook, err := startWebhook(ctx, kube)
	if err != nil {
		return err
	}
	defer func() { ui.step("stopping the webhook (draining admissions)"); stopWebhook() }()

	// Some workloads come first, so that their pods run while the model
	// trains: a CronJob fires on the next full minute only, and a
	// StatefulSet pod to be deleted once decided and decided again. The
	// board follows the pods from now on and replays their behaviour; the
	// refiner decides what waited for it when it starts.
	early := func(w *workload) bool { return w.Kind == kindCronJob || w.Recreate }
	for _, w := range workloads {
		switch {
		case w.Kind == kindCronJob:
			ui.step("creating CronJob %s/%s (every minute; its first Job comes at the next full minute)", w.Namespace, w.Name)
		case early(w):
			ui.step("creating %s %s/%s (%d replicas); its pods run and replay their behaviour while the model trains", w.Kind, w.Namespace, w.Name, w.Replicas)
		}
	}
	earlyCreated := time.Now()
	if err := create(ctx, kube, workloads, early); err != nil {
		return err
	}
	board := newBoard(kube, workloads)
	boardCtx, cancelBoard := context.WithCancel(ctx)
	boardDone := make(chan struct{})
	stopBoard := sync.OnceFunc(func() { cancelBoard(); <-boardDone })
	defer stopBoard()
	go func() { defer close(boardDone); board.run(boardCtx, kube, ui) }()
	go replayLoop(boardCtx, db, board)

	ui.step("training a model on %d recorded pods (the %d pods the demo replays, and their load scenarios, held out)", len(trainPods), countRecordings(workloads))
	trained, err := train(ctx, c, trainPods, window, o.ReportDir)
	if err != nil {
		return err
	}
	if err := modelstore.Publish(ctx, kube, ownNamespace, modelConfigMap, trained.Model); err != nil {
		return err
	}
	ui.step("published model %s (held-out pod accuracy %.0f%%, macro-F1 %.2f) to ConfigMap %s/%s",
		trained.Model.Manifest().ModelVersion, 100*trained.Report.PodAccuracy, trained.Report.MacroF1, ownNamespace, modelConfigMap)

	ui.step("starting the refiner (tick %s)", o.Interval)
	src, err := influx.NewSource(influx.Config{URL: db.URL, Bucket: db.Bucket(), Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	defer src.Close()
	// The refiner gives a pod up as unclassified when it has no usable
	// metrics some time after its creation; the early pods waited for the
	// model (minutes on a busy 2-core machine), not for their metrics, so
	// their wait for training is added to the usual 3 minutes.
	stopRefiner, err := startRefiner(ctx, cfg, src, trained.Model, o.Interval, 3*time.Minute+time.Since(earlyCreated))
	if err != nil {
		return err
	}
	defer func() { ui.step("stopping the refiner"); stopRefiner() }()
	board.refinerStarted(time.Now())

	rest := func(w *workload) bool { return !early(w) }
	ui.step("creating %s; their pods replay recorded metrics from the moment they run (10 s per sample)", describe(workloads, rest))
	runCtx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	if err := create(runCtx, kube, workloads, rest); err != nil {
		return err
	}
	watchErr := watch(runCtx, board, ui)
	stopBoard()
	ui.summary(board)
	path, rerr := writeReport(o.ReportDir, board, trained)
	if rerr != nil {
		return rerr
	}
	ui.step("report: %s", path)
	if ctx.Err() != nil {
		ui.step("interrupted; stopping everything")
		return nil
	}
	return watchErr
}

func countRecordings(ws []*workload) int {
	n := 0
	for _, w := range ws {
		n += len(w.Recordings)
	}
	return n
}

// describe counts the workloads only selects by kind, e.g. "7 Deployments,
// 5 StatefulSets, 1 Job".
func describe(ws []*workload, only func(*workload) bool) string {
	var parts []string
	for _, kind := range []string{kindDeployment, kindStatefulSet, kindJob, kindCronJob} {
		n := 0
		for _, w := range ws {
			if w.Kind == kind && only(w) {
				n++
			}
		}
		switch {
		case n == 1:
			parts = append(parts, "1 "+kind)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, kind))
		}
	}
	return strings.Join(parts, ", ")
}

// startWebhook registers the webhook at a loopback URL, has the certs
// Manager create the CA and serving certificate (Secret, caBundle, files)
// and serves until the returned stop is called.
func startWebhook(ctx context.Context, kube client.Client) (func(), error) {
	port, err := freeport.Loopback()
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d%s", port, webhook.Path)
	whc := webhook.Configuration(configName, ownNamespace, admissionregistrationv1.WebhookClientConfig{URL: &url})
	if err := kube.Create(ctx, whc); err != nil {
		return nil, fmt.Errorf("creating the webhook configuration: %w", err)
	}
	certDir, err := os.MkdirTemp("", "podclass-demo-certs-")
	if err != nil {
		return nil, err
	}
	co := certs.DefaultOptions()
	co.Namespace, co.SecretName, co.WebhookConfigName = ownNamespace, "podclass-webhook-tls", configName
	co.IPAddresses, co.CertDir = []net.IP{net.ParseIP("127.0.0.1")}, certDir
	cm, err := certs.New(kube, co)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhook.RunWithCerts(wctx, webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir, CertName: co.CertName, KeyName: co.KeyName,
			ProbeAddr: "0", MetricsAddr: "0"}, webhook.NewPodAnnotator(imagerules.Default()), cm)
	}()
	if err := localcluster.WaitTLS(ctx, fmt.Sprintf("127.0.0.1:%d", port), done, 15*time.Second); err != nil {
		cancel()
		if !errors.Is(err, localcluster.ErrServerStopped) {
			<-done
		}
		os.RemoveAll(certDir)
		return nil, err
	}
	return func() { cancel(); <-done; os.RemoveAll(certDir) }, nil
}

// train runs the trainer's own path: assemble labelled windows, evaluate by
// pod-grouped cross-validation, gate, fit.
func train(ctx context.Context, c *corpus, pods []trainer.Pod, window int, reportDir string) (*trainer.TrainResult, error) {
	rules := imagerules.Default()
	ds, err := trainer.Assemble(ctx, samples.NewMemory(c.windows), pods, trainer.AssembleOptions{
		Labeler: trainer.RulesLabeler(rules, trainer.DefaultMinRuleConfidence),
	})
	if err != nil {
		return nil, err
	}
	cfg := trainer.DefaultEvalConfig()
	cfg.Folds, cfg.WindowLengths, cfg.LearningFractions, cfg.LeaveOneClassOut = 4, nil, nil, false
	cfg.Train.Families = rules.Families()
	cfg.Train.Thresholds.WindowSamples = window
	return trainer.Train(ds, trainer.TrainOptions{Eval: cfg, Gate: trainer.Gate{} /* the demo shows whatever the corpus gives; `podclass train` gates */, ReportDir: filepath.Join(reportDir, "training")})
}

// startRefiner runs the refiner's manager in this process.
func startRefiner(ctx context.Context, cfg *rest.Config, src samples.Source, model refiner.Model, interval, timeout time.Duration) (func(), error) {
	mo := refiner.ManagerOptions(ownNamespace, modelConfigMap)
	mo.Metrics = metricsserver.Options{BindAddress: "0"}
	mo.LeaseDuration, mo.RenewDeadline, mo.RetryPeriod = ptr.To(4*time.Second), ptr.To(3*time.Second), ptr.To(500*time.Millisecond)
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, err
	}
	ro := refiner.DefaultOptions()
	ro.Interval, ro.Timeout = interval, timeout
	if _, err := refiner.Setup(mgr, ro, src, refiner.NewModelHolder(model), ownNamespace, modelConfigMap); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	return func() { cancel(); <-done }, nil
}
