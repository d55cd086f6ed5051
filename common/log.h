/* log.h — levelled logging to stderr (or journald's stream format).
 *
 * The level and sink are set once at start-up by the main thread (log_init,
 * log_set_level) before other threads exist; after that every function here
 * may be called from any thread. Messages follow
 * "<module>: <object>: <what happened>", lowercase, and never contain
 * extracted text, matched excerpts or key material. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* @ident prefixes every line ("leakwatchd"); borrowed for the process's life.
 * Uses journald's "<N>" priority prefixes when stderr is the journal. */
void log_init(const char *ident);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns false for anything else. */
bool log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_LEVEL_DEBUG) {                      \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                 \
		}                                                              \
	} while (0)

/* At most @burst messages per @interval_s seconds; the rest are counted and
 * the count is reported with the next message let through. Zero-initialise
 * with LOG_RATELIMIT_INIT. Thread-safe. */
struct log_ratelimit {
	int interval_s;
	int burst;
	int64_t window_start;
	int printed;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(interval, n) {.interval_s = (interval), .burst = (n)}

void log_msg_ratelimit(struct log_ratelimit *rl, enum log_level level,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_warn_ratelimit(rl, ...)                                            \
	log_msg_ratelimit((rl), LOG_LEVEL_WARN, __VA_ARGS__)
