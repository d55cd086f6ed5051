/* sandbox.h — confinement of the classify helper process.
 *
 * Called once by leakwatch-classify after it has loaded what it needs from
 * disk and before it reads any untrusted byte. After sandbox_enter() the
 * process cannot open files, create processes or sockets, gain privileges,
 * or grow beyond its memory limit; a forbidden system call kills it (which
 * the caller sees as a crash and records against that one file). */
#pragma once

#include <stddef.h>

struct sandbox_limits {
	size_t memory_bytes;  /* RLIMIT_AS */
	unsigned cpu_seconds; /* RLIMIT_CPU over the helper's life; 0 = none */
};

/* Returns 0 or -errno; on failure the helper must exit. */
int sandbox_enter(const struct sandbox_limits *lim);
