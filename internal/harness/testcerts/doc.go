// Package testcerts writes a throw-away self-signed serving certificate for
// a loopback address, for tests and load tools that run the real TLS server
// without a cluster to issue one.
//
// A harness: imported only by tests and hack/; it imports nothing of podclass.
package testcerts
