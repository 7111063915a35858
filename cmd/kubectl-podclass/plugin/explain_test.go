package plugin

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podclass/podclass/api"
)

func TestCompare(t *testing.T) {
	tests := map[string]struct {
		annotations                 map[string]string
		guess, behaviour, verdictIs string
	}{
		"a pending image guess waits for behaviour": {
			annotations: guess("redis", "cache", "image", "0.95", "redis"),
			guess:       "redis, from the images, confidence 0.95",
			behaviour:   "not decided yet (pending: the refiner decides once it has read about 60 s of the pod's metrics)",
		},
		"a pending port guess names the ports and what the images said": {
			annotations: guess("redis", "cache", "ports", "0.60", "unknown"),
			guess:       "redis, from the declared ports, confidence 0.60 (the images: unknown)",
			behaviour:   "not decided yet (pending: the refiner decides once it has read about 60 s of the pod's metrics)",
		},
		"behaviour that names the image's class confirms it": {
			annotations: decision(guess("mysql", "database", "image", "0.95", "mysql"), "classified", "mysql", "database", "0.93", time.Minute, "classified mysql p=0.93 d=0.41"),
			guess:       "mysql, from the images",
			behaviour:   "mysql, confidence 0.93",
			verdictIs:   "behaviour confirms the guess",
		},
		"behaviour that names another class differs": {
			annotations: decision(guess("mysql", "database", "image", "0.95", "mysql"), "classified", "postgresql", "database", "0.91", time.Minute, "classified postgresql p=0.91 d=0.41"),
			guess:       "mysql, from the images",
			behaviour:   "postgresql, confidence 0.91",
			verdictIs:   "behaviour differs from the guess: mysql by the images, postgresql by behaviour",
		},
		"a family answer names the family and the most probable class": {
			annotations: decision(guess("mysql", "database", "image", "0.95", "mysql"), "classified", "database", "database", "0.88", time.Minute, "classified database p=0.88 d=0.70 [base features] (predicted postgresql)"),
			guess:       "mysql, from the images",
			behaviour:   "database, confidence 0.88 (the family only; most probable postgresql)",
			verdictIs:   "behaviour names only the family database; the guess was mysql",
		},
		"behaviour names what no image rule knew": {
			annotations: decision(guess("redis", "cache", "ports", "0.60", "unknown"), "classified", "nginx", "web", "0.81", time.Minute, "classified nginx p=0.81 d=0.52"),
			guess:       "unknown, from the images",
			behaviour:   "nginx, confidence 0.81",
			verdictIs:   "behaviour named what the images did not",
		},
		"an abstention does not confirm the guess": {
			annotations: decision(guess("haproxy", "proxy", "image", "0.95", "haproxy"), "unknown", "unknown", "", "0.41", time.Minute, "unknown unknown p=0.41 d=1.70 (predicted nginx)"),
			guess:       "haproxy, from the images",
			behaviour:   "unknown: the model abstained, confidence 0.41; most probable nginx",
			verdictIs:   "behaviour did not confirm the guess haproxy",
		},
		"an image class the model does not know is not confirmed, nor blamed on the model": {
			annotations: decision(guess("kafka", "broker", "image", "0.95", "kafka"), "unknown", "unknown", "", "0.61", time.Minute,
				"unknown unknown p=0.61 d=0.40 [process features] (predicted zookeeper); the image names kafka, a class the model does not know, and its behaviour resembles zookeeper (0.61)"),
			guess:     "kafka, from the images",
			behaviour: "unknown: the images name a class the model does not know, confidence 0.61; most probable zookeeper",
			verdictIs: "the model cannot confirm the guess kafka, and behaviour is not of its family",
		},
		"an image class the model does not know gets the family behaviour shares with it": {
			annotations: decision(guess("kafka", "broker", "image", "0.95", "kafka"), "classified", "broker", "broker", "0.80", time.Minute,
				"classified broker p=0.80 d=0.40 [process features] (predicted mosquitto); the image names kafka, a class the model does not know, and its behaviour is a broker's (nearest class mosquitto 0.55)"),
			guess:     "kafka, from the images",
			behaviour: "broker, confidence 0.80 (the family only; most probable mosquitto)",
			verdictIs: "behaviour names only the family broker; the guess was kafka",
		},
		"an abstention on an unknown image names nothing": {
			annotations: decision(guess("unknown", "", "image", "0.00", "unknown"), "unknown", "unknown", "", "0.30", time.Minute, "unknown unknown p=0.30 d=2.00"),
			guess:       "unknown, from the images",
			behaviour:   "unknown: the model abstained, confidence 0.30",
			verdictIs:   "neither the images nor behaviour name a class",
		},
		"an unclassified pod keeps its guess and says why": {
			annotations: decision(guess("postgresql", "database", "ports", "0.60", "unknown"), "unclassified", "", "", "", time.Minute, "no usable metrics within 10m0s"),
			guess:       "postgresql, from the declared ports, confidence 0.60 (the images: unknown)",
			behaviour:   "none: no usable metrics within 10m0s",
			verdictIs:   "no answer from behaviour; the class stays the guess",
		},
		"a pod podclass never annotated has neither": {
			guess: none, behaviour: none, verdictIs: "podclass has not annotated this pod",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := FromObject(podMeta("shop", "p", time.Hour, nil, tc.annotations))
			g, b, v := compare(p)
			if g != tc.guess || b != tc.behaviour || v != tc.verdictIs {
				t.Errorf("compare:\n got guess %q\n     behaviour %q\n     verdict %q\nwant guess %q\n     behaviour %q\n     verdict %q", g, b, v, tc.guess, tc.behaviour, tc.verdictIs)
			}
		})
	}
}

// explainFixture is shop/db as the refiner leaves it, its Events (podclass's
// and others'), and an Event about a predecessor under the same name.
func explainFixture() []runtime.Object {
	m := fixturePods()[0].(*metav1.PartialObjectMetadata)
	pod := &corev1.Pod{ObjectMeta: m.ObjectMeta, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init-db", Image: "busybox:1.36"}},
		Containers:     []corev1.Container{{Name: "mariadb", Image: "mariadb:11.4"}, {Name: "exporter", Image: "prom/mysqld-exporter:v0.15"}},
	}}
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "db", UID: pod.UID}
	at := func(ago time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-ago)) }
	return []runtime.Object{
		pod,
		// As the refiner's events.k8s.io recorder writes it, read through core/v1.
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db.1"}, InvolvedObject: ref,
			Type: "Normal", Reason: "Classified", Action: "Classify", ReportingController: "podclass-refiner",
			EventTime: metav1.NewMicroTime(testNow.Add(-5*time.Minute - 3*time.Second)),
			Message:   "podclass: mysql (status classified, confidence 0.93, model 20261129T110621Z-9e6881858b01): classified mysql p=0.93"},
		// A core/v1 recorder's, repeated.
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db.2"}, InvolvedObject: ref,
			Type: "Warning", Reason: "ClassificationFailed", Source: corev1.EventSource{Component: "podclass-refiner"},
			FirstTimestamp: at(6 * time.Minute), LastTimestamp: at(5*time.Minute + 30*time.Second), Count: 3,
			Message: "podclass gave up after 5 refused patches"},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db.3"}, InvolvedObject: ref,
			Type: "Normal", Reason: "Pulled", Source: corev1.EventSource{Component: "kubelet"}, LastTimestamp: at(6 * time.Minute),
			Message: "Container image pulled"},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db.4"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "db", UID: "a-predecessor"},
			Type:           "Normal", Reason: "Classified", ReportingController: "podclass-refiner",
			EventTime: metav1.NewMicroTime(testNow.Add(-time.Hour)), Message: "podclass: redis (status classified)"},
	}
}

func TestExplain(t *testing.T) {
	out, _, err := run(t, fakeClients(t, nil, explainFixture()...), "explain", "db")
	if err != nil {
		t.Fatal(err)
	}
	want := lines(`
		Pod:                 shop/db
		Created:             7m ago
		Containers:          init-db: busybox:1.36 (init)
		                     mariadb: mariadb:11.4
		                     exporter: prom/mysqld-exporter:v0.15
		Class:               mysql
		Family:              database
		Status:              classified
		Source:              metrics
		Confidence:          0.93
		Model:               20261129T110621Z-9e6881858b01
		Decided:             5m3s ago (2026-11-29T11:54:57Z)
		Image guess:         mysql, from the images
		Behaviour:           mysql, confidence 0.93
		Verdict:             behaviour confirms the guess
		Decision:            classified mysql p=0.93 d=0.41 [process features]: log_processes=2.3<=3.1 → threads_per_process=12>4.5; farthest log_sockets z=2.1
		  Feature set:       process (process structure, CPU, memory, network, IO)
		  Probability:       0.93
		  Distance:          0.41
		  Farthest feature:  log_sockets (robust z 2.1 from the class's training pods)
		  Path:              the tests of the tree most sure of the answer, root first
		    1. log_processes = 2.3 <= 3.1
		    2. threads_per_process = 12 > 4.5
		Events:
		  Type     Reason                Age                 From              Message
		  ----     ------                ----                ----              -------
		  Warning  ClassificationFailed  5m30s (x3 over 6m)  podclass-refiner  podclass gave up after 5 refused patches
		  Normal   Classified            5m3s                podclass-refiner  podclass: mysql (status classified, confidence 0.93, model 20261129T110621Z-9e6881858b01): classified mysql p=0.93
		`)
	if out != want {
		t.Errorf("explain db printed\n%s\nwant\n%s", out, want)
	}
}

func TestExplainJSON(t *testing.T) {
	out, _, err := run(t, fakeClients(t, nil, explainFixture()...), "explain", "db", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got PodExplanation
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if got.Class != "mysql" || got.Verdict != "behaviour confirms the guess" || got.Explanation == nil || len(got.Explanation.Path) != 2 {
		t.Errorf("explain -o json: %+v", got)
	}
	var reasons []string
	for _, e := range got.Events {
		reasons = append(reasons, e.Reason+"/"+e.From)
	}
	if strings.Join(reasons, ",") != "ClassificationFailed/podclass-refiner,Classified/podclass-refiner" {
		t.Errorf("events %v: want podclass's two about this pod, oldest first (not the kubelet's, not a predecessor's)", reasons)
	}
	if len(got.Containers) != 3 || !got.Containers[0].Init {
		t.Errorf("containers %+v", got.Containers)
	}
}

func TestExplainOfAPodPodclassNeverAnnotated(t *testing.T) {
	tests := map[string]struct {
		labels map[string]string
		why    string
	}{
		"an opted-out pod says so": {
			labels: map[string]string{api.EnabledLabel: "false"},
			why:    "podclass has not annotated this pod: it opted out (pod label podclass.io/enabled=false)",
		},
		"any other pod names the namespace label and the webhook": {
			why: "podclass has not annotated this pod: its namespace has not opted in (namespace label podclass.io/enabled=true), or the webhook missed it and the refiner has not backfilled it yet",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "batch", UID: "u", Labels: tc.labels,
				CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour))}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "job", Image: "acme/job:1"}}}}
			out, _, err := run(t, fakeClients(t, nil, pod), "explain", "batch")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.why) || !regexp.MustCompile(`(?m)^Events:\s+<none>$`).MatchString(out) {
				t.Errorf("explain batch printed\n%s\nwant the line %q and no events", out, tc.why)
			}
		})
	}
}

func TestExplainOfAMissingPodIsAnError(t *testing.T) {
	_, _, err := run(t, fakeClients(t, nil), "explain", "gone")
	if err == nil || !strings.Contains(err.Error(), `getting pod shop/gone: pods "gone" not found`) {
		t.Errorf("error %v, want the pod not found", err)
	}
}

func TestExplainSaysWhereTheAnnotationWasCut(t *testing.T) {
	tests := map[string]struct {
		explanation   string
		want, wantNot string
	}{
		"a cut in the path says steps are missing": {
			explanation: "classified redis p=0.99 d=0.10 [process features]: log_threads=1<=2 → log_sockets=3>2...",
			want:        "    1. log_threads = 1 <= 2\n    … (cut off: the annotation is cut at 256 characters)\n",
			wantNot:     "Farthest feature",
		},
		"a cut in the farthest feature leaves the path whole": {
			explanation: "classified redis p=0.99 d=0.10 [process features]: log_threads=1<=2; farthest log_net_bytes_per...",
			want:        "Farthest feature:  <cut off: the annotation is cut at 256 characters>\n",
			wantNot:     "    … (cut off",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := decision(guess("redis", "cache", "image", "0.95", "redis"), "classified", "redis", "cache", "0.99", time.Minute, tc.explanation)
			pod := &corev1.Pod{ObjectMeta: podMeta("shop", "cache", time.Hour, nil, a).ObjectMeta}
			out, _, err := run(t, fakeClients(t, nil, pod), "explain", "cache")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.want) || strings.Contains(out, tc.wantNot) {
				t.Errorf("explain printed\n%s\nwant %q and not %q", out, tc.want, tc.wantNot)
			}
		})
	}
}
