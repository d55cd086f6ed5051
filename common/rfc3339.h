/* rfc3339.h — the protocol's time strings ("2026-11-23T05:10:34.123Z").
 * All in UTC with milliseconds, so that they sort as strings, which is how
 * both stores compare them. Any thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RFC3339_LEN 25 /* with the NUL */

/* Now, into @buf (RFC3339_LEN bytes). */
void rfc3339_now(char *buf);
/* Seconds since the epoch (with milliseconds) into @buf. */
void rfc3339_format(long long ms, char *buf);
/* True if @s is a UTC time as the protocol writes it,
 * YYYY-MM-DDTHH:MM:SS[.fraction]Z, naming a moment that exists: month
 * 1-12, a day the month has (leap years included), 00-23:00-59:00-59. The
 * stores compare times as strings, so the shape is checked, not just "a
 * string", and an impossible date would sort among real ones. */
bool rfc3339_is_utc(const char *s);
/* A "since" value: a duration back from now ("90s", "30m", "24h", "7d") or
 * an RFC 3339 time with any offset ("2026-11-23T05:10:34Z",
 * "2026-11-23T06:10:34.5+01:00"). Writes the canonical UTC form into @buf.
 * Returns 0 or -EINVAL. */
int rfc3339_parse_since(const char *s, char *buf);
/* The same as milliseconds since the epoch, a duration counted back from
 * @now_ms. Returns 0 or -EINVAL. */
int rfc3339_parse_ms(const char *s, long long now_ms, long long *out);
