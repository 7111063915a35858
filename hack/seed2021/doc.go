// Command seed2021 converts the seed-2021 CSV recordings (see
// ../shared/datasets/seed-2021/README.md) into the line protocol and pods CSV
// that `podclass train|eval|classify` read, and can evaluate them directly.
//
//	go run ./hack/seed2021 -lp seed.lp -pods seed-pods.csv FILE.csv...
//	go run ./hack/seed2021 -eval -folds 5 FILE.csv...
//
// A tool, not the product: nothing imports it.
package main
