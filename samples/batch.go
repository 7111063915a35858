package samples

import (
	"regexp"
	"sort"
	"strings"
	"time"
)

// DefaultBatchSize is how many pods one store query asks for: large enough
// that the refiner's few hundred pending pods cost one round trip, small
// enough that the regex and the response stay modest.
const DefaultBatchSize = 500

// DefaultQueryTimeout bounds one store query unless a source is told otherwise.
const DefaultQueryTimeout = time.Minute

// batches splits pods into chunks of at most size, dropping duplicates so a
// caller's repeated key cannot cost a query slot.
func Batches(pods []PodKey, size int) [][]PodKey {
	if size <= 0 {
		size = DefaultBatchSize
	}
	seen := make(map[PodKey]bool, len(pods))
	uniq := make([]PodKey, 0, len(pods))
	for _, p := range pods {
		if !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	var out [][]PodKey
	for len(uniq) > 0 {
		n := min(size, len(uniq))
		out = append(out, uniq[:n:n])
		uniq = uniq[n:]
	}
	return out
}

// alternation returns the sorted, de-duplicated, regex-quoted names joined by
// "|": a regex that matches exactly the set when anchored. Names are quoted
// because pod names may hold dots, and a user-chosen name must never widen
// the match.
func Alternation(names []string) string {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	uniq := make([]string, 0, len(set))
	for n := range set {
		uniq = append(uniq, regexp.QuoteMeta(n))
	}
	sort.Strings(uniq)
	return strings.Join(uniq, "|")
}

// namesOf returns the namespaces and the pod names of a batch. Matching on
// both sets can also match a pod of one namespace under the name of a pod in
// another: sources drop such rows by exact key after the query.
func NamesOf(pods []PodKey) (namespaces, names []string) {
	for _, p := range pods {
		namespaces = append(namespaces, p.Namespace)
		names = append(names, p.Name)
	}
	return namespaces, names
}
