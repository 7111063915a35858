package prometheus

import "time"

// TimeRanges is how many range queries per batch a read of [start, end)
// takes when one query may hold perQuery steps (at most maxPointsPerQuery):
// the split Windows makes, exported for the tests that count queries.
func TimeRanges(start, end time.Time, step time.Duration, perQuery int) int64 {
	return int64(len(steps(start, end, step, min(maxPointsPerQuery, perQuery))))
}
