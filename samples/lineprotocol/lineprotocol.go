package lineprotocol

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/podclass/podclass/samples"
)

// Options configures reading InfluxDB line protocol.
type Options struct {
	// Schema maps measurements to samples; the zero value means samples.DefaultSchema.
	Schema samples.Schema
	// Interval is the bucket width samples are aligned to. Zero means
	// samples.DefaultInterval; negative keeps the exact timestamps.
	Interval time.Duration
	// Precision of the timestamps in the file; zero means nanoseconds, which
	// is what telegraf's file output and `influx export` write.
	Precision time.Duration
	// Lenient skips bad lines instead of failing on the first one; they are
	// counted in ReadStats and handed to OnBadLine.
	Lenient bool
	// OnBadLine, if set, sees every bad line, lenient or not.
	OnBadLine func(*LineError)
	// Containers picks the containers that feed a pod's samples; nil keeps
	// every container (never the pod-level "" or the pause container).
	Containers samples.ContainerFilter
}

// ReadStats says what a read saw, so a caller in lenient mode can tell a
// clean file from one that lost half its lines.
type ReadStats struct {
	Lines    int64 // physical lines read
	Points   int64 // lines that fed a sample
	BadLines int64 // lines skipped as malformed
}

// LineError is a malformed line.
type LineError struct {
	Line   int64 // 1-based line number in the file
	Column int   // 1-based byte column, 0 when unknown
	Err    error
}

func (e *LineError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// normalize fills defaults and validates.
func (o Options) normalize() (Options, error) {
	if len(o.Schema.Measurements) == 0 {
		o.Schema = samples.DefaultSchema()
	}
	if err := o.Schema.Validate(); err != nil {
		return o, err
	}
	if o.Interval == 0 {
		o.Interval = samples.DefaultInterval
	}
	switch o.Precision {
	case 0:
		o.Precision = time.Nanosecond
	case time.Nanosecond, time.Microsecond, time.Millisecond, time.Second:
	default:
		return o, fmt.Errorf("line protocol: precision %v is not one of 1ns, 1µs, 1ms, 1s", o.Precision)
	}
	return o, nil
}

// Read reads every pod's samples from r, plain or gzip-compressed.
func Read(ctx context.Context, r io.Reader, opts Options) (*samples.Memory, ReadStats, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, ReadStats{}, err
	}
	acc := samples.NewAccumulator(o.Interval, nil)
	var stats ReadStats
	if err := readLineProtocol(ctx, r, newLPReader(o, acc, time.Time{}, time.Time{}), &stats); err != nil {
		return nil, stats, err
	}
	return samples.NewMemory(acc.Windows()), stats, nil
}

// LoadFile reads a whole file into memory once: the offline
// trainer's way in.
func LoadFile(ctx context.Context, path string, opts Options) (*samples.Memory, ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ReadStats{}, fmt.Errorf("line protocol: %w", err)
	}
	defer f.Close()
	m, stats, err := Read(ctx, f, opts)
	if err != nil {
		return nil, stats, fmt.Errorf("line protocol %s: %w", path, err)
	}
	return m, stats, nil
}

// File is a samples.Source and samples.Lister that streams a file on every call,
// keeping only the pods and times asked for. Use LoadFile instead
// when the same file is asked many times.
type File struct {
	path string
	opts Options

	mu   sync.Mutex
	last ReadStats
}

var (
	_ samples.Source = (*File)(nil)
	_ samples.Lister = (*File)(nil)
)

// NewFile fails fast on a bad schema or a missing file.
func NewFile(path string, opts Options) (*File, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("line protocol: %w", err)
	}
	return &File{path: path, opts: o}, nil
}

// Stats returns what the last call read.
func (f *File) Stats() ReadStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Windows reads the samples of pods in [start, end); zero times leave the
// range open.
func (f *File) Windows(ctx context.Context, pods []samples.PodKey, start, end time.Time) (map[samples.PodKey]*samples.Window, error) {
	acc := samples.NewAccumulator(f.opts.Interval, pods)
	if err := f.read(ctx, newLPReader(f.opts, acc, start, end)); err != nil {
		return nil, err
	}
	return acc.Windows(), nil
}

// Pods lists, sorted, the pods with samples in [start, end).
func (f *File) Pods(ctx context.Context, start, end time.Time) ([]samples.PodKey, error) {
	acc := samples.NewAccumulator(f.opts.Interval, nil)
	acc.PodsOnly = true
	if err := f.read(ctx, newLPReader(f.opts, acc, start, end)); err != nil {
		return nil, err
	}
	return acc.PodKeys(), nil
}

func (f *File) read(ctx context.Context, lr *lpReader) error {
	file, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("line protocol: %w", err)
	}
	defer file.Close()
	var stats ReadStats
	err = readLineProtocol(ctx, file, lr, &stats)
	f.mu.Lock()
	f.last = stats
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("line protocol %s: %w", f.path, err)
	}
	return nil
}

// maybeGunzip sniffs the gzip magic rather than trusting a file name, so a
// `.lp` that is really compressed (or a pipe) still reads.
func maybeGunzip(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("reading: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() error { return nil }, nil
}
