// Package lineprotocol reads and writes the InfluxDB line protocol telegraf
// writes (its file output, `influx export`), plain or gzip: Read and LoadFile
// load a whole file into a samples.Memory, File streams one per call, and
// Writer encodes windows back into lines the reader (or a real InfluxDB)
// reads as the same windows. The offline trainer, the replay harness and the
// seed converter all write through Writer.
//
// It imports the samples core and the line-protocol codec only; nothing of
// podclass above it and no test harness.
package lineprotocol
