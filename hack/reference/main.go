// Command reference writes the quality gate's reference set
// (trainer/reference: pods.csv and metrics.lp, embedded in the trainer) from
// the recorded corpus, by rule: for every class of known services (the pods
// CSV's known column is not false; sidecar rows left out), up to -per-class
// pods, in pod-name order, preferring first a machine shape, then a scenario
// not yet chosen; each pod's first -seconds of samples.
//
//	go run ./hack/reference [-corpus testdata/corpus] [-out trainer/reference]
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	corpus := flag.String("corpus", "testdata/corpus", "the recorded corpus (pods.csv, metrics.lp)")
	out := flag.String("out", "trainer/reference", "where to write pods.csv and metrics.lp")
	perClass := flag.Int("per-class", 5, "reference pods per class (one per machine shape of the corpus: five)")
	seconds := flag.Int("seconds", 90, "seconds of samples kept per pod, from its first")
	flag.Parse()
	if err := run(*corpus, *out, *perClass, int64(*seconds)); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}

type row map[string]string

func run(corpus, out string, perClass int, seconds int64) error {
	rows, header, err := readCSV(filepath.Join(corpus, "pods.csv"))
	if err != nil {
		return err
	}
	byClass := map[string][]row{}
	for _, r := range rows {
		if r["class"] == "" || r["class"] == "unknown" || falsy(r["known"]) || truthy(r["sidecar"]) {
			continue
		}
		byClass[r["class"]] = append(byClass[r["class"]], r)
	}
	chosen := map[string]row{} // namespace/pod → row
	var classes []string
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	var picked []row
	for _, c := range classes {
		rs := byClass[c]
		sort.Slice(rs, func(i, j int) bool { return rs[i]["pod_name"] < rs[j]["pod_name"] })
		var mine []row
		taken := map[string]bool{}
		for _, col := range []string{"machine", "scenario", ""} {
			seen := map[string]bool{}
			for _, r := range mine {
				seen[r[col]] = true
			}
			for _, r := range rs {
				k := r["namespace"] + "/" + r["pod_name"]
				if len(mine) == perClass || taken[k] || (col != "" && seen[r[col]]) {
					continue
				}
				seen[r[col]], taken[k] = true, true
				mine = append(mine, r)
			}
		}
		for _, r := range mine {
			chosen[r["namespace"]+"/"+r["pod_name"]] = r
		}
		picked = append(picked, mine...)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(out, "pods.csv"), header, picked); err != nil {
		return err
	}
	return cutMetrics(filepath.Join(corpus, "metrics.lp"), filepath.Join(out, "metrics.lp"), chosen, seconds*1e9)
}

func falsy(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "false" || v == "no" || v == "0"
}

func truthy(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "true" || v == "yes" || v == "1"
}

func readCSV(path string) ([]row, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	header := recs[0]
	var rows []row
	for _, rec := range recs[1:] {
		r := row{}
		for i, h := range header {
			if i < len(rec) {
				r[strings.ToLower(strings.TrimSpace(h))] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, r)
	}
	return rows, header, nil
}

func writeCSV(path string, header []string, rows []row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(header))
		for i, h := range header {
			rec[i] = r[strings.ToLower(strings.TrimSpace(h))]
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// podOf returns namespace/pod of a line-protocol line from its tags.
func podOf(line string) (string, int64, bool) {
	sp := strings.IndexByte(line, ' ')
	last := strings.LastIndexByte(line, ' ')
	if sp < 0 || last <= sp {
		return "", 0, false
	}
	ts, err := strconv.ParseInt(line[last+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	var ns, pod string
	for _, tag := range strings.Split(line[:sp], ",")[1:] {
		k, v, _ := strings.Cut(tag, "=")
		switch k {
		case "namespace", "io.kubernetes.pod.namespace":
			ns = v
		case "pod_name", "io.kubernetes.pod.name", "pod":
			pod = v
		}
	}
	return ns + "/" + pod, ts, ns != "" && pod != ""
}

func cutMetrics(in, out string, chosen map[string]row, span int64) error {
	first := map[string]int64{}
	err := scan(in, func(line string) {
		if k, ts, ok := podOf(line); ok && chosen[k] != nil {
			if f, seen := first[k]; !seen || ts < f {
				first[k] = ts
			}
		}
	})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = scan(in, func(line string) {
		if k, ts, ok := podOf(line); ok && chosen[k] != nil && ts <= first[k]+span {
			w.WriteString(line)
			w.WriteByte('\n')
		}
	})
	if err := w.Flush(); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func scan(path string, fn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && line[0] != '#' {
			fn(line)
		}
	}
	return sc.Err()
}
