// Package api holds podclass's public API: the labels users set and the
// annotations podclass writes on pods. Policy engines read these keys, so
// they are stable; a change here is a breaking change for users.
//
// It imports nothing of podclass: every other package may import it.
package api
