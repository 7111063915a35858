package demo

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podclass/podclass/imagerules"
)

// ui draws the board on a terminal: in place when live, else as lines
// printed only when something changed.
type ui struct {
	out   io.Writer
	live  bool
	start time.Time
	last  string
	drawn int // lines of the last live table
}

func newUI(out io.Writer, live bool) *ui { return &ui{out: out, live: live, start: time.Now()} }

func (u *ui) step(format string, a ...any) {
	u.drawn = 0
	fmt.Fprintf(u.out, "[%5.1fs] %s\n", time.Since(u.start).Seconds(), fmt.Sprintf(format, a...))
}

func (u *ui) render(b *board) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tIMAGE GUESS\tSTATUS\tCLASS\tCONF\tTRUTH\tDECIDED IN\tSAMPLES")
	decided, expected := 0, 0
	for _, r := range b.rows {
		status, guess, class := r.Status, r.ImageGuess, r.Class
		if status == "" {
			status, guess, class = "(not annotated)", "-", "-"
		}
		in := "-"
		if r.DecidedIn > 0 {
			in = r.DecidedIn.String()
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", r.Namespace, r.Name, guess, status, class, conf(r.Confidence), r.Truth, in, r.Written, len(r.Samples))
		if r.Expected {
			expected++
			if r.decided() {
				decided++
			}
		}
	}
	tw.Flush()
	width := 30
	filled := 0
	if expected > 0 {
		filled = decided * width / expected
	}
	fmt.Fprintf(&sb, "[%s%s] %d/%d opted-in pods decided\n", strings.Repeat("#", filled), strings.Repeat(".", width-filled), decided, expected)
	return sb.String()
}

func (u *ui) table(b *board) {
	s := u.render(b)
	if s == u.last {
		return
	}
	u.last = s
	if u.live && u.drawn > 0 {
		fmt.Fprintf(u.out, "\x1b[%dA\x1b[J", u.drawn) // up over the last table, clear below
	}
	fmt.Fprintf(u.out, "%s", s)
	u.drawn = strings.Count(s, "\n")
	if !u.live {
		fmt.Fprintln(u.out)
	}
}

// stats are the summary figures, shared by the terminal and the report.
type stats struct {
	Expected, Decided, Classified, Unknown, Unclassified int
	ClassRight, FamilyRight                              int
	Untouched, UntouchedRight                            int
	Latencies                                            []time.Duration
}

func (b *board) stats() stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	rules := imagerules.Default()
	var s stats
	for _, r := range b.rows {
		if !r.Expected {
			s.Untouched++
			if r.Status == "" {
				s.UntouchedRight++
			}
			continue
		}
		s.Expected++
		if !r.decided() {
			continue
		}
		s.Decided++
		s.Latencies = append(s.Latencies, r.DecidedIn)
		switch r.Status {
		case "classified":
			s.Classified++
		case "unknown":
			s.Unknown++
		default:
			s.Unclassified++
		}
		c, f := r.correct(rules.Family)
		if c {
			s.ClassRight++
		}
		if f {
			s.FamilyRight++
		}
	}
	sort.Slice(s.Latencies, func(i, j int) bool { return s.Latencies[i] < s.Latencies[j] })
	return s
}

func pctOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func (u *ui) summary(b *board) {
	s := b.stats()
	fmt.Fprintln(u.out)
	fmt.Fprintf(u.out, "summary: %d of %d opted-in pods decided: %d classified, %d unknown (abstained), %d unclassified\n",
		s.Decided, s.Expected, s.Classified, s.Unknown, s.Unclassified)
	fmt.Fprintf(u.out, "  right class: %d/%d (%.0f%%); right class or family: %d/%d (%.0f%%) — pods held out of training\n",
		s.ClassRight, s.Expected, pctOf(s.ClassRight, s.Expected), s.FamilyRight, s.Expected, pctOf(s.FamilyRight, s.Expected))
	fmt.Fprintf(u.out, "  left alone as they should be (opted out / namespace not opted in): %d/%d\n", s.UntouchedRight, s.Untouched)
	if n := len(s.Latencies); n > 0 {
		fmt.Fprintf(u.out, "  time from pod creation to decision: min %s, median %s, max %s (the model reads 6 samples = 60 s of behaviour)\n",
			s.Latencies[0], s.Latencies[n/2], s.Latencies[n-1])
	}
}

func familyOf() func(string) string { return imagerules.Default().Family }
