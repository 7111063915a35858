// Package freeport finds free loopback ports for servers podclass starts
// itself: test servers, the demo's webhook, benchmark tools.
//
// A harness: imported only by tests, the demo and hack/; it imports nothing of
// podclass.
package freeport
