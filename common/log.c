/* log.c — the process's one log sink (see log.h). Owns the level and ident,
 * written only before threads start; the ratelimit state is per call site and
 * guarded by one mutex. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_ident = "leakwatch";
static enum log_level log_level_cur = LOG_LEVEL_INFO;
static bool log_journal;
static pthread_mutex_t log_rl_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_LEVEL_ERR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};
/* syslog priorities for journald's stream protocol */
static const int level_prio[] = {
	[LOG_LEVEL_ERR] = 3,
	[LOG_LEVEL_WARN] = 4,
	[LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_DEBUG] = 7,
};

void
log_init(const char *ident)
{
	log_ident = ident;
	/* systemd sets JOURNAL_STREAM when stderr is connected to journald; it
	 * timestamps lines itself and parses "<N>" as the priority. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level
log_get_level(void)
{
	return log_level_cur;
}

bool
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_level_cur) {
		return;
	}
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One fprintf per line: stdio locks the stream, so lines from several
	 * threads do not interleave. */
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level_prio[level], msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s: %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_ident,
		level_names[level], msg);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_msg_ratelimit(struct log_ratelimit *rl, enum log_level level,
		  const char *fmt, ...)
{
	if (level > log_level_cur) {
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t suppressed = 0;
	bool print = false;
	pthread_mutex_lock(&log_rl_lock);
	if (ts.tv_sec - rl->window_start >= rl->interval_s) {
		rl->window_start = ts.tv_sec;
		rl->printed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		print = true;
		suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&log_rl_lock);
	if (!print) {
		return;
	}
	if (suppressed) {
		log_msg(level, "(%" PRIu64 " similar messages suppressed)", suppressed);
	}
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
