package lineprotocol

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podclass/podclass/samples"
	"github.com/podclass/podclass/samples/samplestest"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLineProtocolFileReadsTheFixture(t *testing.T) {
	f := samplestest.NewFixture()
	// Comments and blank lines are what `influx export` and hand edits add.
	text := "# DML\n# CONTEXT-DATABASE: telegraf\n\n" + strings.ReplaceAll(f.LineProtocol(), "\n", "\r\n")
	tests := map[string][]byte{
		"a plain file with CRLF line ends": []byte(text),
		"a gzip-compressed file":           gzipped(t, f.LineProtocol()),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			src, err := NewFile(writeFile(t, "metrics.lp", data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			start, end := samplestest.Range()
			got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
			if err != nil {
				t.Fatal(err)
			}
			samplestest.AssertWindows(t, got, f.Want)
			if st := src.Stats(); st.BadLines != 0 || st.Points == 0 {
				t.Errorf("stats %+v: want points and no bad lines", st)
			}
			pods, err := src.Pods(context.Background(), start, end)
			if err != nil {
				t.Fatal(err)
			}
			if want := []samples.PodKey{samplestest.PodDB, samplestest.PodWeb, samplestest.PodStaging}; !equalPods(pods, want) {
				t.Errorf("Pods = %v, want %v", pods, want)
			}
		})
	}
}

func TestLineProtocolFileLeavesSidecarsOut(t *testing.T) {
	f := samplestest.NewFixture()
	src, err := NewFile(writeFile(t, "metrics.lp", []byte(f.LineProtocol())), Options{Containers: samplestest.KeepMain})
	if err != nil {
		t.Fatal(err)
	}
	start, end := samplestest.Range()
	got, err := src.Windows(context.Background(), samplestest.Pods(), start, end)
	if err != nil {
		t.Fatal(err)
	}
	samplestest.AssertWindows(t, got, f.WantMain)
}

func TestLineProtocolFileKeepsOnlyTheRequestedPodsAndTimes(t *testing.T) {
	f := samplestest.NewFixture()
	src, err := NewFile(writeFile(t, "m.lp", []byte(f.LineProtocol())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// [step 1, step 3), as InfluxDB's range() would cut it.
	start, end := samplestest.Start.Add(samples.DefaultInterval), samplestest.Start.Add(3*samples.DefaultInterval)
	got, err := src.Windows(context.Background(), []samples.PodKey{samplestest.PodDB}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	want := &samples.Window{Pod: samplestest.PodDB, Samples: append([]samples.Sample(nil), f.Want[samplestest.PodDB].Samples[1:3]...)}
	samplestest.AssertWindows(t, got, map[samples.PodKey]*samples.Window{samplestest.PodDB: want})
}

func TestLoadLineProtocolFileServesSlicesFromMemory(t *testing.T) {
	f := samplestest.NewFixture()
	m, stats, err := LoadFile(context.Background(), writeFile(t, "m.lp.gz", gzipped(t, f.LineProtocol())), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Lines != int64(f.Lines()) {
		t.Errorf("read %d lines, want %d", stats.Lines, f.Lines())
	}
	samplestest.AssertWindows(t, m.All(), f.Want)
	start, end := samplestest.Range()
	got, err := m.Windows(context.Background(), samplestest.Pods(), start, end)
	if err != nil {
		t.Fatal(err)
	}
	samplestest.AssertWindows(t, got, f.Want)
	pods, _ := m.Pods(context.Background(), samplestest.Start.Add(4*samples.DefaultInterval), time.Time{})
	if want := []samples.PodKey{samplestest.PodDB, samplestest.PodWeb}; !equalPods(pods, want) {
		t.Errorf("Pods after the staging pod left = %v, want %v", pods, want)
	}
}

func TestLineProtocolBadLines(t *testing.T) {
	good := "kubernetes_pod_container,namespace=a,pod_name=p,container_name=c cpu_usage_nanocores=5i 1709251200000000000\n"
	tests := map[string]struct {
		line string
		want string // in the error
	}{
		"a value that is not a number": {
			line: "kubernetes_pod_container,namespace=a,pod_name=p cpu_usage_nanocores=abc 1709251200000000000",
			want: "line 2, column",
		},
		"a string where a number belongs": {
			line: `kubernetes_pod_container,namespace=a,pod_name=p cpu_usage_nanocores="x" 1709251200000000000`,
			want: `line 2: field "cpu_usage_nanocores": want a number, got string`,
		},
		"a timestamp that overflows": {
			line: "kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 99999999999999999999",
			want: "line 2: invalid timestamp",
		},
		"no timestamp": {
			line: "kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i",
			want: "line 2: no timestamp",
		},
		"a tag without a value": {
			line: "kubernetes_pod_network,namespace rx_bytes=1i 1",
			want: "line 2, column",
		},
		"a line of garbage": {
			line: ",,, ===",
			want: "line 2, column 1",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			input := good + tc.line + "\n" + good
			_, _, err := Read(context.Background(), strings.NewReader(input), Options{})
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			var seen []*LineError
			m, stats, err := Read(context.Background(), strings.NewReader(input), Options{
				Lenient:   true,
				OnBadLine: func(e *LineError) { seen = append(seen, e) },
			})
			if err != nil {
				t.Fatalf("lenient read failed: %v", err)
			}
			if stats.BadLines != 1 || len(seen) != 1 || seen[0].Line != 2 {
				t.Errorf("lenient: stats %+v, reported %v; want one bad line, line 2", stats, seen)
			}
			if w := m.All()[samples.PodKey{Namespace: "a", Name: "p"}]; w == nil || len(w.Samples) != 1 || w.Samples[0].CPUNanoCores != 5 {
				t.Errorf("lenient: the good lines around the bad one were not kept: %+v", w)
			}
		})
	}
}

func TestLineProtocolRejectsAnOverlongLine(t *testing.T) {
	input := "x,a=b f=1i 1 " + strings.Repeat("x", maxLineBytes) + "\n" +
		"kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 1709251200000000000\n"
	_, _, err := Read(context.Background(), strings.NewReader(input), Options{})
	if err == nil || !strings.Contains(err.Error(), "line 1: line longer than") {
		t.Fatalf("err = %v, want line 1 too long", err)
	}
	m, stats, err := Read(context.Background(), strings.NewReader(input), Options{Lenient: true})
	if err != nil || stats.BadLines != 1 || stats.Lines != 2 || len(m.All()) != 1 {
		t.Fatalf("lenient: err %v, stats %+v, %d pods; want the second line kept", err, stats, len(m.All()))
	}
}

func TestLineProtocolHonoursTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Read(ctx, strings.NewReader(samplestest.NewFixture().LineProtocol()), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLineProtocolPrecision(t *testing.T) {
	in := "kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 1709251200\n"
	m, _, err := Read(context.Background(), strings.NewReader(in), Options{Precision: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.All()[samples.PodKey{Namespace: "a", Name: "p"}].Samples[0].Time; !got.Equal(samplestest.Start) {
		t.Errorf("time = %v, want %v", got, samplestest.Start)
	}
	if _, _, err := Read(context.Background(), strings.NewReader(in), Options{Precision: time.Minute}); err == nil {
		t.Error("a minute precision was accepted")
	}
}

func equalPods(a, b []samples.PodKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
