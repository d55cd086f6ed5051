/* harness.h — minimal TAP producer for unit tests (meson protocol: 'tap').
 *
 * Tests are tables of { input, expected } rows; each check names its row so
 * a failure says which case broke. Single-threaded use only. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Records one result; @fmt names the case. Returns @cond. */
bool th_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* String equality that prints both sides on failure (NULL-safe). */
bool th_streq(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool th_inteq(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints the plan ("1..N") and returns the exit status: 0 if all passed. */
int th_done(void);
/* A fresh private directory under $TMPDIR (removed by th_done unless
 * LW_KEEP_TMP is set). Returns a path valid until th_done. */
const char *th_tmpdir(void);
