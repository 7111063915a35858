package webhook

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// Memory bounds of the admission server. Reading and decoding an
// AdmissionReview holds about five times its size (the body, the decoded
// review and its raw pod, our view of the pod); without a bound, sixteen
// concurrent 6 MB reviews from any client that reaches the port took the
// process to 395 MB (the chart's limit is 128 MiB).
const (
	// DefaultMaxReviewBytes is the largest review read. The apiserver
	// sends no larger one for a pod CREATE: it refuses request bodies over
	// 3 MiB, and the review carries the one pod (controller-runtime allows
	// 7 MiB for an UPDATE's two objects).
	DefaultMaxReviewBytes = 4 << 20
	// DefaultReviewBudgetBytes bounds the bytes of all reviews being read
	// and answered at once: two of the largest, or thousands of ordinary
	// ones (a few KiB each).
	DefaultReviewBudgetBytes = 8 << 20
	// reviewBudgetWait is how long a review waits for room before it is
	// answered 503; the apiserver then admits the pod unannotated
	// (failurePolicy Ignore) and the refiner backfills it.
	reviewBudgetWait = time.Second
)

// reviewBudget is an http.Handler that reserves each request's declared
// size (the maximum when it declares none) from a shared budget before next
// reads it, refuses a request larger than the maximum unread (413), and
// answers 503 when no room frees up in time. Ordinary reviews are a few KiB:
// thousands fit at once, and large ones cannot crowd them out of memory.
type reviewBudget struct {
	next    http.Handler
	bytes   *semaphore.Weighted
	max     int64
	maxWait time.Duration
}

func newReviewBudget(next http.Handler, maxReview, budget int64) *reviewBudget {
	if maxReview <= 0 {
		maxReview = DefaultMaxReviewBytes
	}
	if budget <= 0 {
		budget = DefaultReviewBudgetBytes
	}
	budget = max(budget, maxReview)
	return &reviewBudget{next: next, bytes: semaphore.NewWeighted(budget), max: maxReview, maxWait: reviewBudgetWait}
}

func (b *reviewBudget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	size := r.ContentLength
	switch {
	case size > b.max:
		observe(resultTooLarge, "")
		http.Error(w, fmt.Sprintf("admission review of %d bytes; the limit is %d", size, b.max), http.StatusRequestEntityTooLarge)
		return
	case size < 0:
		size = b.max
		r.Body = http.MaxBytesReader(w, r.Body, b.max)
	}
	ctx, cancel := context.WithTimeout(r.Context(), b.maxWait)
	err := b.bytes.Acquire(ctx, max(size, 1))
	cancel()
	if err != nil {
		observe(resultBusy, "")
		w.Header().Set("Retry-After", "1")
		http.Error(w, "podclass webhook: too many large admission reviews at once", http.StatusServiceUnavailable)
		return
	}
	defer b.bytes.Release(max(size, 1))
	b.next.ServeHTTP(w, r)
}

// MemoryLimitFraction of the container's memory limit becomes the Go
// runtime's soft memory limit. The rest is for what the limit does not
// count: the binary's mapped code (about 25 MiB of the 40 MiB an idle
// webhook holds) and slack for a GC cycle under way.
const MemoryLimitFraction = 0.6

// setMemoryLimit sets the runtime's soft memory limit to a fraction of the
// cgroup's memory limit, unless GOMEMLIMIT is set: with GOGC at 400
// (TuneGC) the heap would otherwise grow to five times its live size before
// a collection, past the container's limit under a burst of large reviews
// (one 4 MB review leaves some 60 MB of garbage: the body read, the decoded
// review, our view of the pod).
func setMemoryLimit(cgroupMax string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	raw, err := os.ReadFile(cgroupMax)
	if err != nil {
		return
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || limit <= 0 { // "max": no limit
		return
	}
	debug.SetMemoryLimit(int64(float64(limit) * MemoryLimitFraction))
}
