// Package samples is the one shape pod behaviour takes in podclass: PodKey,
// Sample (CPU, memory, network, block IO and filesystem values of one pod at
// one time, summed over its containers), Window (a pod's samples in time
// order), and the Source and Lister interfaces every store adapter serves.
//
// It also owns what the adapters share so each is written once: the
// accumulator that sums rows of a pod's series into one Sample per interval
// bucket (DefaultInterval), so the same data gives the same windows from any
// store; the telegraf Schema (DefaultSchema) that the InfluxDB source, the
// line-protocol reader and the line-protocol writer all read; batching of
// pods into queries (DefaultBatchSize); and Memory, a Source over windows
// already loaded.
//
// The adapters live beside it: samples/influx (Flux over telegraf's
// measurements), samples/prometheus (PromQL over cAdvisor's series) and
// samples/lineprotocol (telegraf/`influx export` files, read and written).
//
// Every Source answers for many pods at once: the refiner asks for hundreds of
// pending pods per tick, and one query per pod per metric would not scale.
//
// samples imports only the standard library: the classifier depends on it
// and must not compile against any store's client. It must not import its
// adapters or anything else of podclass.
package samples
