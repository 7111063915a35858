package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/podclass/podclass/trainer"
)

func main() {
	lp := flag.String("lp", "", "write line protocol to this file")
	pods := flag.String("pods", "", "write the pods CSV to this file")
	eval := flag.Bool("eval", false, "cross-validate grouped by pod and print the report JSON")
	folds := flag.Int("folds", 5, "folds for -eval")
	window := flag.Int("window", 6, "window samples for -eval")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: seed2021 [-lp OUT.lp] [-pods OUT.csv] [-eval] FILE.csv...")
		os.Exit(2)
	}
	src, podList, err := trainer.LoadSeed2021(flag.Args()...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "seed2021: %d pods\n", len(podList))
	if *lp != "" {
		f, err := os.Create(*lp)
		if err == nil {
			err = trainer.WriteLineProtocol(f, src.All())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *pods != "" {
		f, err := os.Create(*pods)
		if err == nil {
			err = trainer.WritePodsCSV(f, podList)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *eval {
		ds, err := trainer.Assemble(context.Background(), src, podList, trainer.AssembleOptions{Progress: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg := trainer.DefaultEvalConfig()
		cfg.Folds = *folds
		cfg.Train.Thresholds.WindowSamples = *window
		cfg.Progress = os.Stderr
		rep, err := trainer.Evaluate(ds.Examples(), cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Println(string(out))
	}
}
