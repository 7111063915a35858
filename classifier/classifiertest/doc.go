// Package classifiertest makes small synthetic windows for unit tests of the
// classifier and trainer. Never train a shipped model on them.
//
// Test helper: it imports the samples core only and is imported only by tests.
package classifiertest
