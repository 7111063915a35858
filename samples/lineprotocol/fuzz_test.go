package lineprotocol

import (
	"bytes"
	"context"
	"testing"

	"github.com/podclass/podclass/samples/samplestest"
)

// FuzzLineProtocol feeds arbitrary bytes to the reader: it must never panic,
// lenient mode must never fail on content (only a corrupt gzip stream may),
// and whatever it returns must be well formed. The seed corpus is in
// testdata/fuzz/FuzzLineProtocol.
func FuzzLineProtocol(f *testing.F) {
	f.Add([]byte(samplestest.NewFixture().LineProtocol()))
	f.Add([]byte("kubernetes_pod_network,namespace=a,pod_name=p rx_bytes=1i 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		gz := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		for _, opts := range []Options{{}, {Lenient: true}, {Lenient: true, Interval: -1}} {
			m, stats, err := Read(context.Background(), bytes.NewReader(data), opts)
			if err != nil {
				if opts.Lenient && !gz {
					t.Fatalf("lenient read failed: %v", err)
				}
				continue
			}
			if stats.BadLines > stats.Lines || stats.Points > stats.Lines {
				t.Fatalf("stats %+v do not add up", stats)
			}
			if !opts.Lenient && stats.BadLines != 0 {
				t.Fatalf("strict read succeeded with %d bad lines", stats.BadLines)
			}
			for k, w := range m.All() {
				if w.Pod != k || k.Namespace == "" || k.Name == "" || len(w.Samples) == 0 {
					t.Fatalf("malformed window %v: %+v", k, w)
				}
				for i := 1; i < len(w.Samples); i++ {
					if !w.Samples[i-1].Time.Before(w.Samples[i].Time) {
						t.Fatalf("%v: samples out of order at %d", k, i)
					}
				}
			}
		}
	})
}
