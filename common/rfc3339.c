/* rfc3339.c — protocol time strings (see rfc3339.h). Stateless. */
#include "rfc3339.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool
rfc3339_is_utc(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = strlen(s);
	if (n < 20 || s[n - 1] != 'Z') {
		return false;
	}
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]) {
			return false;
		}
	}
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p == 'Z') {
			return false;
		}
		while (*p >= '0' && *p <= '9') {
			p++;
		}
	}
	if (p != s + n - 1) {
		return false;
	}
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	return mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h <= 23 &&
	       mi <= 59 && se <= 59;
}

void
rfc3339_format(long long ms, char *buf)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	/* a 4-digit year; strftime bounds the fields for the compiler */
	if (tm.tm_year + 1900 > 9999) {
		tm.tm_year = 9999 - 1900;
	}
	size_t n = strftime(buf, RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, RFC3339_LEN - n, ".%03uZ", (unsigned)(ms % 1000) % 1000u);
}

void
rfc3339_now(char *buf)
{
	rfc3339_format(clock_wall_ns() / 1000000, buf);
}

int
rfc3339_parse_ms(const char *s, long long now_ms, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end != s && !errno && n >= 0 && end[0] && !end[1] && s[0] >= '0' && s[0] <= '9') {
		long long mult;
		switch (end[0]) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		default:
			return -EINVAL;
		}
		if (n > 100LL * 365 * 86400 / mult) {
			return -EINVAL;
		}
		long long ms = now_ms - n * mult * 1000;
		*out = ms < 0 ? 0 : ms;
		return 0;
	}
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p) {
		return -EINVAL;
	}
	int frac_ms = 0;
	if (*p == '.') {
		p++;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			if (digits < 3) {
				frac_ms = frac_ms * 10 + (*p - '0');
			}
			digits++;
			p++;
		}
		if (!digits) {
			return -EINVAL;
		}
		for (; digits < 3; digits++) {
			frac_ms *= 10;
		}
	}
	long off_s = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] && p[2] && p[3] == ':' && p[4] && p[5]) {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59) {
			return -EINVAL;
		}
		off_s = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p) {
		return -EINVAL;
	}
	/* strptime takes 31 February and second 61; timegm would roll them
	 * over into another day */
	struct tm want = tm;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon ||
	    tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min || tm.tm_sec != want.tm_sec) {
		return -EINVAL;
	}
	*out = ((long long)t - off_s) * 1000 + frac_ms;
	return 0;
}

int
rfc3339_parse_since(const char *s, char *buf)
{
	long long ms;
	if (rfc3339_parse_ms(s, clock_wall_ns() / 1000000, &ms) < 0) {
		return -EINVAL;
	}
	rfc3339_format(ms, buf);
	return 0;
}
