package classifiertest

import (
	"fmt"
	"math"
	"math/rand"
	"time"

	"github.com/podclass/podclass/samples"
)

// Profile is the made-up behaviour of a class.
type Profile struct {
	Cores      float64 // mean CPU cores
	WorkingSet float64 // bytes
	RSSShare   float64 // RSS / working set
	RxRate     float64 // bytes/s
	TxRxRatio  float64
	IORead     float64 // bytes/s
	IOWrite    float64 // bytes/s
	Faults     float64 // page faults/s
}

// Profiles are three well separated classes, a foreign one, and "replica",
// a look-alike of "db" (for tests of how a service resembling a known one
// is treated).
var Profiles = map[string]Profile{
	"db":      {Cores: 0.8, WorkingSet: 800e6, RSSShare: 0.5, RxRate: 2e5, TxRxRatio: 3, IORead: 4e6, IOWrite: 2e6, Faults: 500},
	"replica": {Cores: 0.7, WorkingSet: 600e6, RSSShare: 0.55, RxRate: 3e5, TxRxRatio: 2.5, IORead: 3e6, IOWrite: 2.5e6, Faults: 600},
	"cache":   {Cores: 0.2, WorkingSet: 200e6, RSSShare: 0.95, RxRate: 1e6, TxRxRatio: 1.2, IORead: 0, IOWrite: 1e3, Faults: 50},
	"web":     {Cores: 0.4, WorkingSet: 30e6, RSSShare: 0.7, RxRate: 1e5, TxRxRatio: 30, IORead: 1e4, IOWrite: 0, Faults: 2000},
	"foreign": {Cores: 3, WorkingSet: 4e9, RSSShare: 0.2, RxRate: 5e7, TxRxRatio: 0.01, IORead: 5e8, IOWrite: 5e8, Faults: 1e5},
}

// Window makes n samples 10 s apart of a pod behaving like p, at a load
// level scaling the rates, with multiplicative noise.
func Window(key samples.PodKey, p Profile, n int, load float64, rng *rand.Rand) *samples.Window {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &samples.Window{Pod: key}
	noise := func() float64 { return math.Exp(rng.NormFloat64() * 0.1) }
	var cpuNs, rx, tx, rd, wr, faults float64
	for i := 0; i < n; i++ {
		s := samples.NewSample(t0.Add(time.Duration(i) * 10 * time.Second))
		cores := p.Cores * load * noise()
		s.CPUNanoCores = cores * 1e9
		cpuNs += cores * 10 * 1e9
		s.CPUCoreNanoSeconds = cpuNs
		ws := p.WorkingSet * noise()
		s.MemoryWorkingSet = ws
		s.MemoryRSS = ws * p.RSSShare
		s.MemoryUsage = ws * 1.2
		rx += p.RxRate * load * noise() * 10
		tx += p.RxRate * p.TxRxRatio * load * noise() * 10
		rd += p.IORead * load * noise() * 10
		wr += p.IOWrite * load * noise() * 10
		faults += p.Faults * load * noise() * 10
		s.RxBytes, s.TxBytes, s.IOReadBytes, s.IOWriteBytes = rx, tx, rd, wr
		s.PageFaults, s.MajorPageFaults = faults, 0
		s.RxErrors, s.TxErrors = 0, 0
		s.RootfsUsed, s.LogsfsUsed = 1e6, 1e5+float64(i)*100
		w.Samples = append(w.Samples, s)
	}
	return w
}

// Pods makes perClass pods of each named class with n samples each, at load
// levels spread over 0.3–3×.
func Pods(classes []string, perClass, n int, seed int64) (keys []samples.PodKey, labels []string, windows []*samples.Window) {
	rng := rand.New(rand.NewSource(seed))
	for _, c := range classes {
		p, ok := Profiles[c]
		if !ok {
			panic("classifiertest: no profile " + c)
		}
		for i := 0; i < perClass; i++ {
			k := samples.PodKey{Namespace: "synth", Name: fmt.Sprintf("%s-%d", c, i)}
			load := 0.3 * math.Pow(10, float64(i)/float64(max(perClass-1, 1)))
			keys = append(keys, k)
			labels = append(labels, c)
			windows = append(windows, Window(k, p, n, load, rng))
		}
	}
	return keys, labels, windows
}
