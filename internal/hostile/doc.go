// Package hostile holds the hostile-load tests: each runs an attack from
// the table of issue #13 (and spec/limits.md's budgets) against a real
// server over loopback while a good client calls, and checks that the
// server stays within its budgets, the good calls succeed and nothing is
// left behind once the attacker leaves. It has no code of its own beyond
// the tests.
package hostile
