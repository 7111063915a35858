package samples

import (
	"fmt"
	"math"
)

// Field names one value of a Sample. Schemas map store columns (a telegraf
// field, a Prometheus series) onto Fields, so the summing and alignment code is
// written once for every source instead of once per struct member.
type Field int

// The fields of a Sample, in declaration order.
const (
	FieldCPUNanoCores Field = iota
	FieldMemoryUsage
	FieldMemoryWorkingSet
	FieldMemoryRSS
	FieldRootfsUsed
	FieldLogsfsUsed
	FieldProcesses
	FieldThreads
	FieldFileDescriptors
	FieldSockets
	FieldCPUCoreNanoSeconds
	FieldPageFaults
	FieldMajorPageFaults
	FieldRxBytes
	FieldTxBytes
	FieldRxErrors
	FieldTxErrors
	FieldIOReadBytes
	FieldIOWriteBytes

	NumFields // keep last
)

var fieldNames = [NumFields]string{
	"CPUNanoCores", "MemoryUsage", "MemoryWorkingSet", "MemoryRSS", "RootfsUsed", "LogsfsUsed",
	"Processes", "Threads", "FileDescriptors", "Sockets",
	"CPUCoreNanoSeconds", "PageFaults", "MajorPageFaults", "RxBytes", "TxBytes", "RxErrors", "TxErrors",
	"IOReadBytes", "IOWriteBytes",
}

// Fields lists every Field in declaration order.
func Fields() []Field {
	fs := make([]Field, NumFields)
	for i := range fs {
		fs[i] = Field(i)
	}
	return fs
}

// Valid reports whether f names a Sample value.
func (f Field) Valid() bool { return f >= 0 && f < NumFields }

func (f Field) String() string {
	if !f.Valid() {
		return fmt.Sprintf("Field(%d)", int(f))
	}
	return fieldNames[f]
}

// Cumulative reports whether the field is a counter that only grows until its
// container restarts; the classifier differentiates those into rates.
func (f Field) Cumulative() bool { return f >= FieldCPUCoreNanoSeconds && f < NumFields }

// ptr returns the address of field f in s, or nil for an invalid field.
func (s *Sample) ptr(f Field) *float64 {
	switch f {
	case FieldCPUNanoCores:
		return &s.CPUNanoCores
	case FieldMemoryUsage:
		return &s.MemoryUsage
	case FieldMemoryWorkingSet:
		return &s.MemoryWorkingSet
	case FieldMemoryRSS:
		return &s.MemoryRSS
	case FieldRootfsUsed:
		return &s.RootfsUsed
	case FieldLogsfsUsed:
		return &s.LogsfsUsed
	case FieldProcesses:
		return &s.Processes
	case FieldThreads:
		return &s.Threads
	case FieldFileDescriptors:
		return &s.FileDescriptors
	case FieldSockets:
		return &s.Sockets
	case FieldCPUCoreNanoSeconds:
		return &s.CPUCoreNanoSeconds
	case FieldPageFaults:
		return &s.PageFaults
	case FieldMajorPageFaults:
		return &s.MajorPageFaults
	case FieldRxBytes:
		return &s.RxBytes
	case FieldTxBytes:
		return &s.TxBytes
	case FieldRxErrors:
		return &s.RxErrors
	case FieldTxErrors:
		return &s.TxErrors
	case FieldIOReadBytes:
		return &s.IOReadBytes
	case FieldIOWriteBytes:
		return &s.IOWriteBytes
	}
	return nil
}

// Get returns the value of field f, NaN for an invalid field.
func (s *Sample) Get(f Field) float64 {
	if p := s.ptr(f); p != nil {
		return *p
	}
	return math.NaN()
}

// Set stores v as field f; an invalid field is ignored.
func (s *Sample) Set(f Field, v float64) {
	if p := s.ptr(f); p != nil {
		*p = v
	}
}
