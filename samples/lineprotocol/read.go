package lineprotocol

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/podclass/podclass/samples"

	lp "github.com/influxdata/line-protocol/v2/lineprotocol"
)

// maxLineBytes bounds one line so a file without newlines cannot eat memory.
const maxLineBytes = 4 << 20

// lpMeasurement is a samples.MeasurementSchema prepared for fast matching: every tag
// the reader cares about gets an index into lpReader.tagVals.
type lpMeasurement struct {
	name    string
	tags    []string // tag names of interest
	pods    [][2]int // per samples.PodTags pair: indices of namespace, pod in tags
	series  []int    // indices of SeriesTags in tags
	require []lpRequire
	fields  map[string]samples.Field
	schema  *samples.MeasurementSchema
	ctags   map[string]int // ContainerTags → index in tags
}

type lpRequire struct {
	tag   int
	value string
}

func compileMeasurement(m *samples.MeasurementSchema) *lpMeasurement {
	c := &lpMeasurement{name: m.Name, fields: m.Fields, schema: m, ctags: map[string]int{}}
	index := func(tag string) int {
		for i, t := range c.tags {
			if t == tag {
				return i
			}
		}
		c.tags = append(c.tags, tag)
		return len(c.tags) - 1
	}
	for _, pt := range m.PodTags {
		c.pods = append(c.pods, [2]int{index(pt.Namespace), index(pt.Pod)})
	}
	for _, t := range m.SeriesTags {
		c.series = append(c.series, index(t))
	}
	for t, v := range m.Require {
		c.require = append(c.require, lpRequire{tag: index(t), value: v})
	}
	for _, t := range m.ContainerTags {
		c.ctags[t] = index(t)
	}
	return c
}

// lpReader decodes lines into an accumulator. It decodes one physical line at
// a time so every error carries the exact line number; the decoder's own
// errors count lines, but its timestamp errors do not.
type lpReader struct {
	opts         Options
	acc          *samples.Accumulator
	start, end   time.Time
	measurements map[string]*lpMeasurement

	// scratch, reused per line: the decoder's slices die at its next call.
	buf     []byte
	tagPos  [][2]int // start, end in buf; start < 0 when absent
	row     samples.Row
	longBuf []byte
}

func newLPReader(o Options, acc *samples.Accumulator, start, end time.Time) *lpReader {
	lr := &lpReader{opts: o, acc: acc, start: start, end: end, measurements: map[string]*lpMeasurement{}}
	for i := range o.Schema.Measurements {
		m := compileMeasurement(&o.Schema.Measurements[i])
		lr.measurements[m.name] = m
	}
	return lr
}

// readLineProtocol feeds every line of r (plain or gzip) to lr.
func readLineProtocol(ctx context.Context, r io.Reader, lr *lpReader, stats *ReadStats) error {
	in, closeIn, err := maybeGunzip(r)
	if err != nil {
		return err
	}
	defer closeIn()
	br := bufio.NewReaderSize(in, 256<<10)
	for {
		if stats.Lines&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, rerr := lr.readLine(br)
		if len(line) > 0 || rerr == errLineTooLong {
			stats.Lines++
			var lerr error
			if rerr == errLineTooLong {
				lerr = rerr
			} else {
				var used bool
				used, lerr = lr.decodeLine(line)
				if used {
					stats.Points++
				}
			}
			if lerr != nil {
				le := toLineError(stats.Lines, lerr)
				stats.BadLines++
				if lr.opts.OnBadLine != nil {
					lr.opts.OnBadLine(le)
				}
				if !lr.opts.Lenient {
					return le
				}
			}
		}
		switch {
		case rerr == nil || rerr == errLineTooLong:
		case errors.Is(rerr, io.EOF):
			return nil
		default:
			return fmt.Errorf("after line %d: %w", stats.Lines, rerr)
		}
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLineBytes)

// readLine returns the next line with its newline. A line too long is
// consumed and reported as errLineTooLong.
func (lr *lpReader) readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	lr.longBuf = append(lr.longBuf[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		if len(lr.longBuf)+len(line) > maxLineBytes {
			for err == bufio.ErrBufferFull { // skip the rest of it
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			// An EOF here shows again on the next call, which ends the read.
			return nil, errLineTooLong
		}
		lr.longBuf = append(lr.longBuf, line...)
	}
	return lr.longBuf, err
}

func toLineError(line int64, err error) *LineError {
	var de *lp.DecodeError
	if errors.As(err, &de) {
		return &LineError{Line: line, Column: de.Column, Err: de.Err}
	}
	return &LineError{Line: line, Err: err}
}

// decodeLine folds one line into the accumulator. It reports whether the line
// fed a sample. Measurements outside the schema are skipped unchecked.
func (lr *lpReader) decodeLine(line []byte) (bool, error) {
	dec := lp.NewDecoderWithBytes(line)
	if !dec.Next() {
		return false, nil // blank or comment
	}
	name, err := dec.Measurement()
	if err != nil {
		return false, err
	}
	m := lr.measurements[string(name)]
	if m == nil {
		return false, nil
	}
	lr.buf = lr.buf[:0]
	lr.tagPos = lr.tagPos[:0]
	for range m.tags {
		lr.tagPos = append(lr.tagPos, [2]int{-1, -1})
	}
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return false, err
		}
		if k == nil {
			break
		}
		for i, t := range m.tags {
			if string(k) == t {
				lr.tagPos[i] = [2]int{len(lr.buf), len(lr.buf) + len(v)}
				lr.buf = append(lr.buf, v...)
				break
			}
		}
	}
	r := &lr.row
	r.Reset()
	fed := false
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return false, err
		}
		if k == nil {
			break
		}
		f, ok := m.fields[string(k)]
		if !ok {
			continue
		}
		x, err := number(v)
		if err != nil {
			return false, fmt.Errorf("field %q: %w", k, err)
		}
		r.Values[f] = x
		fed = true
	}
	tb, err := dec.TimeBytes()
	if err != nil {
		return false, err
	}
	if tb == nil {
		return false, errors.New("no timestamp")
	}
	t, err := lr.parseTime(tb)
	if err != nil {
		return false, err
	}
	r.Time = t
	if !fed || !lr.matches(m) || !lr.inRange(t) {
		return false, nil
	}
	if !lr.opts.Containers.KeepRow(m.schema, func(tag string) string { return string(lr.tag(m.ctags[tag])) }) {
		return false, nil
	}
	ns, pod, ok := lr.pod(m)
	if !ok {
		return false, nil
	}
	p := lr.acc.Lookup(ns, pod)
	if p == nil {
		return false, nil
	}
	h := samples.NewSeriesHash(m.name)
	for _, i := range m.series {
		h = h.AddBytes(lr.tag(i))
	}
	r.Series = uint64(h)
	lr.acc.Add(p, r)
	return true, nil
}

func (lr *lpReader) tag(i int) []byte {
	pos := lr.tagPos[i]
	if pos[0] < 0 {
		return nil
	}
	return lr.buf[pos[0]:pos[1]]
}

// matches checks the Require tags.
func (lr *lpReader) matches(m *lpMeasurement) bool {
	for _, rq := range m.require {
		if lr.tagPos[rq.tag][0] < 0 || string(lr.tag(rq.tag)) != rq.value {
			return false
		}
	}
	return true
}

// pod returns the first pod tag pair present; rows of containers outside
// Kubernetes have none and are skipped.
func (lr *lpReader) pod(m *lpMeasurement) (ns, pod []byte, ok bool) {
	for _, pair := range m.pods {
		ns, pod = lr.tag(pair[0]), lr.tag(pair[1])
		if len(ns) > 0 && len(pod) > 0 {
			return ns, pod, true
		}
	}
	return nil, nil, false
}

func (lr *lpReader) inRange(t time.Time) bool {
	return (lr.start.IsZero() || !t.Before(lr.start)) && (lr.end.IsZero() || t.Before(lr.end))
}

// parseTime parses the decimal timestamp without allocating.
func (lr *lpReader) parseTime(b []byte) (time.Time, error) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return time.Time{}, fmt.Errorf("invalid timestamp %q", b)
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, fmt.Errorf("invalid timestamp %q", b)
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return time.Time{}, fmt.Errorf("timestamp %q out of range", b)
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	p := int64(lr.opts.Precision)
	if p > 1 && (n > math.MaxInt64/p || n < math.MinInt64/p) {
		return time.Time{}, fmt.Errorf("timestamp %d out of range at precision %v", n, lr.opts.Precision)
	}
	return time.Unix(0, n*p).UTC(), nil
}

// number converts a numeric field value; strings and booleans are errors
// because a schema field that is not a number is a misconfiguration.
func number(v lp.Value) (float64, error) {
	switch v.Kind() {
	case lp.Int:
		return float64(v.IntV()), nil
	case lp.Uint:
		return float64(v.UintV()), nil
	case lp.Float:
		return v.FloatV(), nil
	}
	return 0, fmt.Errorf("want a number, got %v", v.Kind())
}
