/* test-collector-config.c — collector.json (collector/collector-config.c),
 * "since" times (collector/rfc3339.c) and the per-agent token bucket
 * (collector/ratelimit.c). */
#include <stdio.h>
#include <string.h>

#include "collector-config.h"
#include "harness.h"
#include "mem.h"
#include "ratelimit.h"
#include "rfc3339.h"

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static const struct {
	const char *name;
	const char *body;     /* members after "tls", or a whole document with '!' */
	const char *want_err; /* substring after "<file>: "; NULL: loads */
} cases[] = {
	{"minimal", "\"listen\": \"127.0.0.1:8443\", \"database\": \"@/c.db\"", NULL},
	{"ipv6", "\"listen\": \"[::1]:8443\", \"database\": \"@/c.db\"", NULL},
	{"postgres uri", "\"listen\": \"0.0.0.0:1\", \"database\": \"postgresql://u@h/db\"", NULL},
	{"all limits", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"admins\": [\"boss\"],"
		       " \"log_level\": \"debug\", \"limits\": {\"max_body_bytes\": 8192,"
		       " \"max_events\": 10, \"timeout_s\": 5, \"rate_per_minute\": 60,"
		       " \"rate_burst\": 10}", NULL},
	{"store workers", "\"listen\": \"a:1\", \"database\": \"postgresql://u@h/db\","
			  " \"limits\": {\"store_workers\": 2}", NULL},
	{"store workers range", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"limits\":"
				" {\"store_workers\": 0}",
	 "/limits/store_workers: must be between 1 and 64"},
	{"unknown key", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"admin\": []",
	 "/admin: unknown key"},
	{"unknown limit", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"limits\": {\"x\": 1}",
	 "/limits/x: unknown key"},
	{"listen type", "\"listen\": 8443, \"database\": \"@/c.db\"", "/listen: must be a string"},
	{"listen no port", "\"listen\": \"host\", \"database\": \"@/c.db\"",
	 "/listen: must be ADDRESS:PORT"},
	{"listen bad port", "\"listen\": \"h:99999\", \"database\": \"@/c.db\"",
	 "/listen: port must be"},
	{"bare ipv6", "\"listen\": \"::1:80\", \"database\": \"@/c.db\"", "/listen: IPv6"},
	{"database missing", "\"listen\": \"a:1\"", "/database: required key missing"},
	{"database relative", "\"listen\": \"a:1\", \"database\": \"c.db\"",
	 "/database: not an absolute path"},
	{"database dir missing", "\"listen\": \"a:1\", \"database\": \"/nonexistent/dir/c.db\"",
	 "/database: /nonexistent/dir/c.db: directory /nonexistent/dir does not exist"},
	{"admins type", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"admins\": [1]",
	 "/admins/0: must be a non-empty string"},
	{"limit range", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"limits\":"
			" {\"timeout_s\": 0}", "/limits/timeout_s: must be between 1 and 3600"},
	{"log level", "\"listen\": \"a:1\", \"database\": \"@/c.db\", \"log_level\": \"loud\"",
	 "/log_level: must be one of"},
	{"tls missing", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\"}", "/tls: required key"},
	{"tls unknown", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\", \"tls\": {\"ca\": \"@/f\","
			" \"cert\": \"@/f\", \"key\": \"@/f\", \"crt\": \"@/f\"}}",
	 "/tls/crt: unknown key"},
	{"relative tls paths", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\", \"tls\": {\"ca\":"
			       " \"f\", \"cert\": \"./f\", \"key\": \"f\"}}", NULL},
	{"relative tls file missing", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\", \"tls\":"
				      " {\"ca\": \"nope\", \"cert\": \"f\", \"key\": \"f\"}}",
	 "/tls/ca: @/nope: No such file or directory"},
	{"tls file missing", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\", \"tls\": {\"ca\":"
			     " \"@/nope\", \"cert\": \"@/f\", \"key\": \"@/f\"}}",
	 "/tls/ca: @/nope: No such file or directory"},
	{"tls crl is a directory", "!{\"listen\": \"a:1\", \"database\": \"@/c.db\", \"tls\":"
				   " {\"ca\": \"@/f\", \"cert\": \"@/f\", \"key\": \"@/f\","
				   " \"crl\": \"@\"}}", "/tls/crl: @: not a regular file"},
};

/* Replaces every '@' in @in by @dir. */
static char *
expand(const char *in, const char *dir)
{
	struct {
		char *p;
		size_t n;
	} out = {lw_malloc(strlen(in) * (strlen(dir) + 1) + 1), 0};
	for (const char *c = in; *c; c++) {
		if (*c == '@') {
			memcpy(out.p + out.n, dir, strlen(dir));
			out.n += strlen(dir);
		} else {
			out.p[out.n++] = *c;
		}
	}
	out.p[out.n] = '\0';
	return out.p;
}

static void
test_config(void)
{
	const char *dir = th_tmpdir();
	char f[600], cfgpath[600];
	snprintf(f, sizeof(f), "%s/f", dir);
	write_file(f, "x");
	snprintf(cfgpath, sizeof(cfgpath), "%s/collector.json", dir);
	for (size_t i = 0; i < LW_ARRAY_SIZE(cases); i++) {
		AUTOFREE char *doc = NULL;
		if (cases[i].body[0] == '!') {
			doc = expand(cases[i].body + 1, dir);
		} else {
			AUTOFREE char *b = expand(cases[i].body, dir);
			AUTOFREE char *t = expand("\"tls\": {\"ca\": \"@/f\", \"cert\": \"@/f\", "
						  "\"key\": \"@/f\"}", dir);
			doc = lw_asprintf("{%s, %s}", t, b);
		}
		write_file(cfgpath, doc);
		struct collector_config *cfg = NULL;
		char err[1024] = "";
		int r = collector_config_load(cfgpath, &cfg, err, sizeof(err));
		if (cases[i].want_err) {
			AUTOFREE char *want_rel = expand(cases[i].want_err, dir);
			AUTOFREE char *want = lw_asprintf("%s: %s", cfgpath, want_rel);
			th_ok(r < 0 && strstr(err, want), "config %s: \"%s\" (got \"%s\")",
			      cases[i].name, want_rel, err);
		} else {
			th_ok(r == 0, "config %s loads (%s)", cases[i].name, err);
		}
		if (r == 0 && strcmp(cases[i].name, "all limits") == 0) {
			th_ok(cfg->max_body_bytes == 8192 && cfg->max_events == 10 &&
				      cfg->timeout_s == 5 && cfg->rate_per_minute == 60 &&
				      cfg->rate_burst == 10 && cfg->log_level == LOG_LEVEL_DEBUG &&
				      collector_config_is_admin(cfg, "boss") &&
				      !collector_config_is_admin(cfg, "bos"),
			      "config all limits: values kept");
		}
		if (r == 0 && strcmp(cases[i].name, "ipv6") == 0) {
			th_ok(strcmp(cfg->listen_host, "::1") == 0 && cfg->listen_port == 8443,
			      "config ipv6: host and port split");
		}
		if (r == 0 && strcmp(cases[i].name, "relative tls paths") == 0) {
			AUTOFREE char *want = lw_asprintf("%s/f", dir);
			th_ok(strcmp(cfg->tls_ca, want) == 0 && strcmp(cfg->tls_key, want) == 0,
			      "config relative tls paths: beside the configuration (%s)",
			      cfg->tls_ca);
		}
		if (r == 0 && strcmp(cases[i].name, "postgres uri") == 0) {
			th_ok(cfg->database_is_pg, "config postgres uri: PostgreSQL store chosen");
			th_inteq(cfg->store_workers, 4, "config postgres uri: four storage workers");
		}
		if (r == 0 && strcmp(cases[i].name, "minimal") == 0) {
			th_inteq(cfg->store_workers, 1, "config minimal: one SQLite storage worker");
		}
		if (r == 0 && strcmp(cases[i].name, "store workers") == 0) {
			th_inteq(cfg->store_workers, 2, "config store workers: the value kept");
		}
		collector_config_free(cfg);
	}
}

static const struct {
	const char *in;
	const char *want; /* NULL: refused; "" : relative (checked for shape) */
} since_cases[] = {
	{"2026-11-23T05:10:34Z", "2026-11-23T05:10:34.000Z"},
	{"2026-11-23T05:10:34.5Z", "2026-11-23T05:10:34.500Z"},
	{"2026-11-23T05:10:34.123456Z", "2026-11-23T05:10:34.123Z"},
	{"2026-11-23T06:10:34+01:00", "2026-11-23T05:10:34.000Z"},
	{"2026-11-23T00:10:34-05:30", "2026-11-23T05:40:34.000Z"},
	{"24h", ""},
	{"7d", ""},
	{"90s", ""},
	{"yesterday", NULL},
	{"24", NULL},
	{"-1h", NULL},
	{"2026-11-23", NULL},
	{"2026-11-23T05:10:34", NULL},
	{"2026-11-23T05:10:34Zjunk", NULL},
};

static void
test_since(void)
{
	for (size_t i = 0; i < LW_ARRAY_SIZE(since_cases); i++) {
		char buf[RFC3339_LEN] = "";
		int r = rfc3339_parse_since(since_cases[i].in, buf);
		if (!since_cases[i].want) {
			th_ok(r < 0, "since %s refused", since_cases[i].in);
		} else if (!since_cases[i].want[0]) {
			th_ok(r == 0 && strlen(buf) == 24 && buf[23] == 'Z', "since %s -> %s",
			      since_cases[i].in, buf);
		} else {
			th_ok(r == 0, "since %s parses", since_cases[i].in);
			th_streq(buf, since_cases[i].want, "since %s", since_cases[i].in);
		}
	}
	char day[RFC3339_LEN], now[RFC3339_LEN];
	rfc3339_parse_since("24h", day);
	rfc3339_now(now);
	th_ok(strcmp(day, now) < 0, "24h ago sorts before now (%s < %s)", day, now);
}

static void
test_ratelimit(void)
{
	struct ratelimit *rl = ratelimit_new(60, 3); /* one a second, burst 3 */
	int got = 0;
	for (int i = 0; i < 10; i++) {
		got += ratelimit_take(rl, "a", 1000);
	}
	th_inteq(got, 3, "burst of 3 at one instant");
	th_ok(ratelimit_take(rl, "b", 1000), "another name has its own bucket");
	th_ok(!ratelimit_take(rl, "a", 1500), "half a second refills half a token");
	th_ok(ratelimit_take(rl, "a", 2001), "a second refills one token");
	th_ok(!ratelimit_take(rl, "a", 2001), "and only one");
	got = 0;
	for (int i = 0; i < 10; i++) {
		got += ratelimit_take(rl, "a", 1000000);
	}
	th_inteq(got, 3, "a long pause refills only up to the burst");
	/* sweeping forgets full buckets without changing answers */
	th_ok(ratelimit_take(rl, "c", 10000000), "after a sweep, a new name starts full");
	ratelimit_free(rl);
}

int
main(void)
{
	test_config();
	test_since();
	test_ratelimit();
	return th_done();
}
