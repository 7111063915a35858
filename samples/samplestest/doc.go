// Package samplestest holds a telegraf line-protocol fixture with the windows
// every reader must make of it, for the tests of the sample sources. It imports
// only the samples core.
package samplestest
