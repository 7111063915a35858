package metrics

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
	f := newFixture()
	// Comments and blank lines are what `influx export` and hand edits add.
	text := "# DML\n# CONTEXT-DATABASE: telegraf\n\n" + strings.ReplaceAll(f.lineProtocol(), "\n", "\r\n")
	tests := map[string][]byte{
		"a plain file with CRLF line ends": []byte(text),
		"a gzip-compressed file":           gzipped(t, f.lineProtocol()),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			src, err := NewLineProtocolFile(writeFile(t, "metrics.lp", data), LineProtocolOptions{})
			if err != nil {
				t.Fatal(err)
			}
			start, end := fixtureRange()
			got, err := src.Windows(context.Background(), fixturePods(), start, end)
			if err != nil {
				t.Fatal(err)
			}
			assertWindows(t, got, f.want)
			if st := src.Stats(); st.BadLines != 0 || st.Points == 0 {
				t.Errorf("stats %+v: want points and no bad lines", st)
			}
			pods, err := src.Pods(context.Background(), start, end)
			if err != nil {
				t.Fatal(err)
			}
			if want := []PodKey{podDB, podWeb, podStaging}; !equalPods(pods, want) {
				t.Errorf("Pods = %v, want %v", pods, want)
			}
		})
	}
}

func TestLineProtocolFileKeepsOnlyTheRequestedPodsAndTimes(t *testing.T) {
	f := newFixture()
	src, err := NewLineProtocolFile(writeFile(t, "m.lp", []byte(f.lineProtocol())), LineProtocolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// [step 1, step 3), as InfluxDB's range() would cut it.
	start, end := fixtureStart.Add(DefaultInterval), fixtureStart.Add(3*DefaultInterval)
	got, err := src.Windows(context.Background(), []PodKey{podDB}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	want := &Window{Pod: podDB, Samples: append([]Sample(nil), f.want[podDB].Samples[1:3]...)}
	assertWindows(t, got, map[PodKey]*Window{podDB: want})
}

func TestLoadLineProtocolFileServesSlicesFromMemory(t *testing.T) {
	f := newFixture()
	m, stats, err := LoadLineProtocolFile(context.Background(), writeFile(t, "m.lp.gz", gzipped(t, f.lineProtocol())), LineProtocolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Lines != int64(len(f.lines)) {
		t.Errorf("read %d lines, want %d", stats.Lines, len(f.lines))
	}
	assertWindows(t, m.All(), f.want)
	start, end := fixtureRange()
	got, err := m.Windows(context.Background(), fixturePods(), start, end)
	if err != nil {
		t.Fatal(err)
	}
	assertWindows(t, got, f.want)
	pods, _ := m.Pods(context.Background(), fixtureStart.Add(4*DefaultInterval), time.Time{})
	if want := []PodKey{podDB, podWeb}; !equalPods(pods, want) {
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
			_, _, err := ReadLineProtocol(context.Background(), strings.NewReader(input), LineProtocolOptions{})
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LineError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
			var seen []*LineError
			m, stats, err := ReadLineProtocol(context.Background(), strings.NewReader(input), LineProtocolOptions{
				Lenient:   true,
				OnBadLine: func(e *LineError) { seen = append(seen, e) },
			})
			if err != nil {
				t.Fatalf("lenient read failed: %v", err)
			}
			if stats.BadLines != 1 || len(seen) != 1 || seen[0].Line != 2 {
				t.Errorf("lenient: stats %+v, reported %v; want one bad line, line 2", stats, seen)
			}
			if w := m.All()[PodKey{"a", "p"}]; w == nil || len(w.Samples) != 1 || w.Samples[0].CPUNanoCores != 5 {
				t.Errorf("lenient: the good lines around the bad one were not kept: %+v", w)
			}
		})
	}
}

func TestLineProtocolRejectsAnOverlongLine(t *testing.T) {
	input := "x,a=b f=1i 1 " + strings.Repeat("x", maxLineBytes) + "\n" +
		"kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 1709251200000000000\n"
	_, _, err := ReadLineProtocol(context.Background(), strings.NewReader(input), LineProtocolOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 1: line longer than") {
		t.Fatalf("err = %v, want line 1 too long", err)
	}
	m, stats, err := ReadLineProtocol(context.Background(), strings.NewReader(input), LineProtocolOptions{Lenient: true})
	if err != nil || stats.BadLines != 1 || stats.Lines != 2 || len(m.All()) != 1 {
		t.Fatalf("lenient: err %v, stats %+v, %d pods; want the second line kept", err, stats, len(m.All()))
	}
}

func TestLineProtocolHonoursTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := ReadLineProtocol(ctx, strings.NewReader(newFixture().lineProtocol()), LineProtocolOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestLineProtocolPrecision(t *testing.T) {
	in := "kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 1709251200\n"
	m, _, err := ReadLineProtocol(context.Background(), strings.NewReader(in), LineProtocolOptions{Precision: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.All()[PodKey{"a", "p"}].Samples[0].Time; !got.Equal(fixtureStart) {
		t.Errorf("time = %v, want %v", got, fixtureStart)
	}
	if _, _, err := ReadLineProtocol(context.Background(), strings.NewReader(in), LineProtocolOptions{Precision: time.Minute}); err == nil {
		t.Error("a minute precision was accepted")
	}
}

func equalPods(a, b []PodKey) bool {
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
