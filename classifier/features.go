package classifier

import (
	"math"

	"github.com/podclass/podclass/samples"
)

// FeatureSchemaName and FeatureSchemaVersion name the feature vector that
// Features computes. A model records them; loading a model built on another
// schema fails (see ErrSchemaMismatch). Bump the version whenever a feature is
// added, removed, reordered or its definition changes, or a feature set
// (FeatureSet.Uses) takes other features: a model file names its sets, not
// their features. Version 3: the process set without the page faults, the
// core set.
const (
	FeatureSchemaName    = "podclass-behaviour"
	FeatureSchemaVersion = "3"
)

// Feature indices. The order is part of the schema.
const (
	FCPUCoresMean = iota
	FCPUCoresP90
	FCPUCV
	FLogWorkingSet
	FLogMemoryUsage
	FRSSWorkingSetRatio
	FCacheShare
	FWorkingSetGrowth
	FLogPageFaultRate
	FLogMajorFaultRate
	FLogFaultsPerCPUSecond
	FLogRxRate
	FLogTxRate
	FLogTxRxRatio
	FLogNetPerCPUSecond
	FRxRateCV
	FTxRateCV
	FLogNetErrorRate
	FLogIOReadRate
	FLogIOWriteRate
	FIOReadShare
	FLogIOPerCPUSecond
	FLogsfsGrowth
	FLogWorkingSetPerCore

	// The process-structure group: from cAdvisor's
	// container_processes, container_threads, container_file_descriptors
	// and container_sockets. Keep them last and together.
	FLogProcesses
	FLogThreads
	FThreadsPerProcess
	FLogFDsPerProcess
	FLogSockets
	FSocketShare
	FProcessesCV
	FSocketsCV

	NumFeatures
)

// firstProcessFeature starts the process-structure group.
const firstProcessFeature = FLogProcesses

var featureNames = [NumFeatures]string{
	FCPUCoresMean:          "cpu_cores_mean",
	FCPUCoresP90:           "cpu_cores_p90",
	FCPUCV:                 "cpu_cv",
	FLogWorkingSet:         "log_working_set_bytes",
	FLogMemoryUsage:        "log_memory_usage_bytes",
	FRSSWorkingSetRatio:    "rss_working_set_ratio",
	FCacheShare:            "cache_share",
	FWorkingSetGrowth:      "working_set_growth_per_min",
	FLogPageFaultRate:      "log_page_fault_rate",
	FLogMajorFaultRate:     "log_major_fault_rate",
	FLogFaultsPerCPUSecond: "log_faults_per_cpu_second",
	FLogRxRate:             "log_rx_bytes_rate",
	FLogTxRate:             "log_tx_bytes_rate",
	FLogTxRxRatio:          "log_tx_rx_ratio",
	FLogNetPerCPUSecond:    "log_net_bytes_per_cpu_second",
	FRxRateCV:              "rx_rate_cv",
	FTxRateCV:              "tx_rate_cv",
	FLogNetErrorRate:       "log_net_error_rate",
	FLogIOReadRate:         "log_io_read_rate",
	FLogIOWriteRate:        "log_io_write_rate",
	FIOReadShare:           "io_read_share",
	FLogIOPerCPUSecond:     "log_io_bytes_per_cpu_second",
	FLogsfsGrowth:          "logsfs_growth_rate",
	FLogWorkingSetPerCore:  "log_working_set_per_core",
	FLogProcesses:          "log_processes",
	FLogThreads:            "log_threads",
	FThreadsPerProcess:     "threads_per_process",
	FLogFDsPerProcess:      "log_fds_per_process",
	FLogSockets:            "log_sockets",
	FSocketShare:           "socket_share_of_fds",
	FProcessesCV:           "processes_cv",
	FSocketsCV:             "sockets_cv",
}

// FeatureNames returns the names of the schema's features, in vector order.
func FeatureNames() []string {
	out := make([]string, NumFeatures)
	copy(out, featureNames[:])
	return out
}

// FeatureSchema identifies a feature vector layout.
type FeatureSchema struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Names   []string `json:"names"`
}

// CurrentSchema is the schema Features computes.
func CurrentSchema() FeatureSchema {
	return FeatureSchema{Name: FeatureSchemaName, Version: FeatureSchemaVersion, Names: FeatureNames()}
}

// minCores is the CPU floor used when dividing by CPU, so an idle pod does not
// divide by zero (a tenth of a millicore).
const minCores = 1e-4

// Features computes the behaviour feature vector of a window. The window must
// be time-ordered (samples.Window.Sort). A feature the window cannot support —
// the metric is missing, or there are too few samples for a rate — is NaN;
// the classifier imputes NaN with the training median of that feature (see
// docs/features.md). Features never looks at the pod's name or namespace.
func Features(w *samples.Window) []float64 {
	x := make([]float64, NumFeatures)
	FeaturesInto(x, w.Samples)
	return x
}

// FeaturesInto is Features writing into x (len NumFeatures) without
// allocating for windows of up to 64 samples.
func FeaturesInto(x []float64, s []samples.Sample) {
	nan := math.NaN()
	for i := range x[:NumFeatures] {
		x[i] = nan
	}
	if len(s) == 0 {
		return
	}
	var buf [64]float64
	scratch := buf[:0]
	if len(s) > len(buf) {
		scratch = make([]float64, 0, len(s))
	}

	// CPU: the nanocores gauge when present, else the rate of the cumulative
	// core-nanoseconds counter.
	cpu := gauge(scratch, s, func(p *samples.Sample) float64 { return p.CPUNanoCores / 1e9 })
	if len(cpu) == 0 {
		cpu = counterRates(scratch, s, func(p *samples.Sample) float64 { return p.CPUCoreNanoSeconds / 1e9 }).rates
	}
	cpuMean := nan
	if len(cpu) > 0 {
		cpuMean = mean(cpu)
		x[FCPUCoresMean] = cpuMean
		x[FCPUCV] = cv(cpu)
		x[FCPUCoresP90] = quantileInPlace(cpu, 0.9)
	}
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.CPUCoreNanoSeconds / 1e9 }); r.ok() && math.IsNaN(cpuMean) {
		cpuMean = r.total()
		x[FCPUCoresMean] = cpuMean
	}
	cpuFloor := nan
	if !math.IsNaN(cpuMean) {
		cpuFloor = math.Max(cpuMean, minCores)
	}

	// Memory.
	ws := gauge(scratch, s, func(p *samples.Sample) float64 { return p.MemoryWorkingSet })
	wsMean := nan
	if len(ws) > 0 {
		wsMean = mean(ws)
		x[FLogWorkingSet] = log10p(wsMean)
		x[FLogWorkingSetPerCore] = log10p(wsMean / cpuFloor)
	}
	wsGrowth := gaugeSlope(s, func(p *samples.Sample) float64 { return p.MemoryWorkingSet })
	if !math.IsNaN(wsGrowth) && wsMean > 0 {
		x[FWorkingSetGrowth] = wsGrowth * 60 / wsMean
	}
	usage := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.MemoryUsage })
	x[FLogMemoryUsage] = log10p(usage)
	rss := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.MemoryRSS })
	if wsMean > 0 {
		x[FRSSWorkingSetRatio] = rss / wsMean
	}
	if usage > 0 && !math.IsNaN(rss) {
		x[FCacheShare] = clamp01(1 - rss/usage)
	}

	// Page faults.
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.PageFaults }); r.ok() {
		x[FLogPageFaultRate] = log10p(r.total())
		if !math.IsNaN(cpuFloor) {
			x[FLogFaultsPerCPUSecond] = log10p(r.total() / cpuFloor)
		}
	}
	if r := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.MajorPageFaults }); r.ok() {
		x[FLogMajorFaultRate] = log10p(r.total())
	}

	// Network.
	rx := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.RxBytes })
	if rx.ok() {
		x[FLogRxRate] = log10p(rx.total())
		x[FRxRateCV] = cv(rx.rates)
	}
	tx := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.TxBytes })
	if tx.ok() {
		x[FLogTxRate] = log10p(tx.total())
		x[FTxRateCV] = cv(tx.rates)
	}
	if rx.ok() && tx.ok() {
		x[FLogTxRxRatio] = math.Log10((tx.total() + 1) / (rx.total() + 1))
		if !math.IsNaN(cpuFloor) {
			x[FLogNetPerCPUSecond] = log10p((rx.total() + tx.total()) / cpuFloor)
		}
	}
	rxe := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.RxErrors })
	txe := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.TxErrors })
	switch {
	case rxe.ok() && txe.ok():
		x[FLogNetErrorRate] = log10p(rxe.total() + txe.total())
	case rxe.ok():
		x[FLogNetErrorRate] = log10p(rxe.total())
	case txe.ok():
		x[FLogNetErrorRate] = log10p(txe.total())
	}

	// Block IO.
	rd := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.IOReadBytes })
	wr := counterRates(scratch, s, func(p *samples.Sample) float64 { return p.IOWriteBytes })
	if rd.ok() {
		x[FLogIOReadRate] = log10p(rd.total())
	}
	if wr.ok() {
		x[FLogIOWriteRate] = log10p(wr.total())
	}
	if rd.ok() && wr.ok() {
		r, w := rd.total(), wr.total()
		if r+w > 0 {
			x[FIOReadShare] = r / (r + w)
		} else {
			x[FIOReadShare] = 0.5
		}
		if !math.IsNaN(cpuFloor) {
			x[FLogIOPerCPUSecond] = log10p((r + w) / cpuFloor)
		}
	}

	// Filesystems. Only the log's growth: the level of rootfs and logsfs
	// says how long a container ran and how its image is laid out, and
	// rootfs growth is what the container writes outside its volumes —
	// neither survives a move to another cluster (docs/features.md).
	x[FLogsfsGrowth] = signedLog10p(gaugeSlope(s, func(p *samples.Sample) float64 { return p.LogsfsUsed }))

	// Process structure: how the server is built, not how busy it is.
	procs := gauge(scratch, s, func(p *samples.Sample) float64 { return p.Processes })
	if len(procs) == 0 {
		return
	}
	pMean := mean(procs)
	x[FLogProcesses] = log10p(pMean)
	x[FProcessesCV] = cv(procs)
	perProc := math.Max(pMean, 1)
	if t := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.Threads }); !math.IsNaN(t) {
		x[FLogThreads] = log10p(t)
		x[FThreadsPerProcess] = t / perProc
	}
	fds := meanOf(scratch, s, func(p *samples.Sample) float64 { return p.FileDescriptors })
	if !math.IsNaN(fds) {
		x[FLogFDsPerProcess] = log10p(fds / perProc)
	}
	socks := gauge(scratch, s, func(p *samples.Sample) float64 { return p.Sockets })
	if len(socks) > 0 {
		sm := mean(socks)
		x[FLogSockets] = log10p(sm)
		x[FSocketsCV] = cv(socks)
		if fds > 0 {
			x[FSocketShare] = clamp01(sm / fds)
		}
	}
}

// HasPageFaults reports whether a feature vector carries the page-fault rate
// (the store had the containers' fault counters).
func HasPageFaults(x []float64) bool {
	return len(x) == NumFeatures && !math.IsNaN(x[FLogPageFaultRate])
}

// HasProcessStructure reports whether a feature vector carries the
// process-structure group (the store had cAdvisor's process metrics).
func HasProcessStructure(x []float64) bool {
	return len(x) == NumFeatures && !math.IsNaN(x[FLogProcesses])
}
