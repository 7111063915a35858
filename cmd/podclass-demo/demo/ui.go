package demo

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/podclass/podclass/imagerules"
)

// ui draws the board on a terminal: in place when live, else as lines
// printed only when something changed.
type ui struct {
	mu    sync.Mutex // steps come from the board's goroutine too
	out   io.Writer
	live  bool
	start time.Time
	last  string
	drawn int // lines of the last live table
}

func newUI(out io.Writer, live bool) *ui { return &ui{out: out, live: live, start: time.Now()} }

func (u *ui) step(format string, a ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.drawn = 0
	fmt.Fprintf(u.out, "[%5.1fs] %s\n", time.Since(u.start).Seconds(), fmt.Sprintf(format, a...))
}

func (u *ui) render(b *board) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tWORKLOAD\tPOD\tNODE\tPHASE\tIMAGE GUESS\tSTATUS\tCLASS\tCONF\tTRUTH\tDECIDED IN\tSAMPLES")
	decided, expected := 0, 0
	for _, r := range b.sorted() {
		status, guess, class := r.Status, r.ImageGuess, r.Class
		if status == "" {
			status, guess, class = "(not annotated)", "-", "-"
		}
		in := "-"
		if r.DecidedIn > 0 {
			in = r.DecidedIn.String()
		}
		pod := r.Pod
		if r.Incarnation > 1 {
			pod += fmt.Sprintf(" (#%d)", r.Incarnation)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\n", r.Namespace, r.W.ID(), pod, dash(r.Node), dash(r.Phase),
			guess, status, class, conf(r.Confidence), r.Truth, in, r.Written, len(r.Samples))
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
	// Pods still to come (a CronJob's, a recreated one) count as undecided.
	expected += b.toCome()
	if expected > 0 {
		filled = decided * width / expected
	}
	fmt.Fprintf(&sb, "[%s%s] %d/%d opted-in pods decided\n", strings.Repeat("#", filled), strings.Repeat(".", width-filled), decided, expected)
	return sb.String()
}

// sorted returns the rows in the order of the workloads, then of creation;
// b.mu held.
func (b *board) sorted() []*row {
	order := map[*workload]int{}
	for i, w := range b.workloads {
		order[w] = i
	}
	rows := slices.Clone(b.rows)
	sort.SliceStable(rows, func(i, j int) bool {
		if order[rows[i].W] != order[rows[j].W] {
			return order[rows[i].W] < order[rows[j].W]
		}
		return rows[i].Created.Before(rows[j].Created)
	})
	return rows
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (u *ui) table(b *board) {
	s := u.render(b) // takes b.mu; never with u.mu held
	u.mu.Lock()
	defer u.mu.Unlock()
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
		if !b.refinerStart.IsZero() && !r.Created.Before(b.refinerStart) {
			// A pod that waited for the refiner to start says nothing of how soon it decides.
			s.Latencies = append(s.Latencies, r.DecidedIn)
		}
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
		fmt.Fprintf(u.out, "  time from pod creation to decision, pods created after the refiner started: min %s, median %s, max %s (the model reads 6 samples = 60 s of behaviour)\n",
			s.Latencies[0], s.Latencies[n/2], s.Latencies[n-1])
	}
	for _, line := range b.recreations() {
		fmt.Fprintf(u.out, "  %s\n", line)
	}
}

// recreations says, for each pod deleted and recreated under its name, what
// each incarnation was decided.
func (b *board) recreations() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, w := range b.workloads {
		first := b.recreated[w]
		if first == nil {
			continue
		}
		line := fmt.Sprintf("%s: pod %s/%s decided %s (%s) in %s, then deleted; ", w.ID(), first.Namespace, first.Pod, first.Class, first.Status, first.DecidedIn)
		for _, r := range b.rows {
			if r.W == w && r.Pod == first.Pod && r.Incarnation > first.Incarnation {
				line += fmt.Sprintf("recreated as a new pod (UID %s…), decided afresh: %s (%s) in %s", string(r.UID)[:8], dash(r.Class), dash(r.Status), r.DecidedIn)
			}
		}
		out = append(out, line)
	}
	return out
}

func familyOf() func(string) string { return imagerules.Default().Family }
