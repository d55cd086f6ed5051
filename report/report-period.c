/* report-period.c — the period a report covers (see report.h).
 *
 * Named periods are the last complete one before now, in UTC: yesterday,
 * the last ISO week (Monday 00:00 to Monday 00:00), the last calendar month
 * or quarter. The period compared with is the one before it of the same
 * kind: for day and week that is the same length; for month and quarter
 * it is the previous calendar month or quarter (an officer compares
 * November with October, not with the 30 days before November), so their
 * lengths can differ by a few days. A custom period (--since/--until) is
 * compared with the same length just before it. */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rfc3339.h"

#define NS_PER_S 1000000000LL
#define DAY_S 86400LL

/* Midnight UTC of y-m-d (m may run past 12 or below 1: timegm normalises). */
static int64_t
midnight(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
	return (int64_t)timegm(&tm) * NS_PER_S;
}

static int
parse_time(const char *what, const char *s, int64_t now, int64_t *out, char *err,
	   size_t errlen)
{
	char buf[64];
	/* a bare date means its midnight, UTC */
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		s = buf;
	}
	long long ms;
	if (rfc3339_parse_ms(s, now / 1000000, &ms) < 0) {
		snprintf(err, errlen,
			 "%s '%s': not a time (RFC 3339 such as 2026-11-23T00:00:00Z, a date"
			 " YYYY-MM-DD, or a duration back from now such as 24h or 7d)",
			 what, s);
		return -EINVAL;
	}
	*out = (int64_t)ms * 1000000;
	return 0;
}

int
report_period_parse(const char *period, const char *since, const char *until, int64_t now,
		    struct report_period *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (period && (since || until)) {
		snprintf(err, errlen, "--period and --since/--until exclude each other");
		return -EINVAL;
	}
	if (until && !since) {
		snprintf(err, errlen, "--until needs --since");
		return -EINVAL;
	}
	if (since) {
		out->name = REPORT_PERIOD_CUSTOM;
		if (parse_time("--since", since, now, &out->since, err, errlen) < 0) {
			return -EINVAL;
		}
		out->until = now;
		if (until && parse_time("--until", until, now, &out->until, err, errlen) < 0) {
			return -EINVAL;
		}
		if (out->since >= out->until) {
			snprintf(err, errlen, "--since %s is not before --until %s", since,
				 until ? until : "(now)");
			return -EINVAL;
		}
		out->prev_since = out->since - (out->until - out->since);
		return 0;
	}
	time_t t = (time_t)(now / NS_PER_S);
	struct tm tm;
	gmtime_r(&t, &tm);
	int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
	int64_t today = midnight(y, m, tm.tm_mday);
	if (!period || strcmp(period, "week") == 0) {
		out->name = REPORT_PERIOD_WEEK;
		int since_monday = (tm.tm_wday + 6) % 7; /* tm_wday: 0 is Sunday */
		out->until = today - since_monday * DAY_S * NS_PER_S;
		out->since = out->until - 7 * DAY_S * NS_PER_S;
		out->prev_since = out->since - 7 * DAY_S * NS_PER_S;
	} else if (strcmp(period, "day") == 0) {
		out->name = REPORT_PERIOD_DAY;
		out->until = today;
		out->since = today - DAY_S * NS_PER_S;
		out->prev_since = out->since - DAY_S * NS_PER_S;
	} else if (strcmp(period, "month") == 0) {
		out->name = REPORT_PERIOD_MONTH;
		out->until = midnight(y, m, 1);
		out->since = midnight(y, m - 1, 1);
		out->prev_since = midnight(y, m - 2, 1);
	} else if (strcmp(period, "quarter") == 0) {
		out->name = REPORT_PERIOD_QUARTER;
		int q = (m - 1) / 3 * 3 + 1; /* first month of this quarter */
		out->until = midnight(y, q, 1);
		out->since = midnight(y, q - 3, 1);
		out->prev_since = midnight(y, q - 6, 1);
	} else {
		snprintf(err, errlen, "--period '%s': expected day, week, month or quarter",
			 period);
		return -EINVAL;
	}
	return 0;
}
