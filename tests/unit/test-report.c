/* test-report.c — the report's CSV tables (report/report-csv.c) and its
 * signature file (report/report-sign.c): tests/report/sample.json written
 * and signed with fresh EC and Ed25519 keys, then verified, tampered with,
 * verified against the wrong key, and left unsigned. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "json.h"
#include "mem.h"
#include "report-render.h"
#include "report-sign.h"
#include "report.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		return NULL;
	}
	char *text = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&text, &n);
	char buf[65536];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, got, m);
	}
	fclose(f);
	fclose(m);
	if (len) {
		*len = n;
	}
	return text;
}

static cJSON *
parse(const char *text, size_t len)
{
	cJSON *doc = NULL;
	struct lw_json_error je;
	if (lw_json_parse(text, len, LW_JSON_BYTES, &doc, &je) < 0) {
		th_ok(false, "document parses: %s", je.msg);
		return NULL;
	}
	return doc;
}

static cJSON *
load_sample(void)
{
	size_t len = 0;
	AUTOFREE char *text = slurp(LW_SOURCE_ROOT "/tests/report/sample.json", &len);
	if (!th_ok(text != NULL, "tests/report/sample.json reads")) {
		return NULL;
	}
	return parse(text, len);
}

static void
free_names(char **names)
{
	for (size_t i = 0; names && names[i]; i++) {
		free(names[i]);
	}
	free(names);
}

static char *
mkdir_in_tmp(const char *name)
{
	char *dir = lw_asprintf("%s/%s", th_tmpdir(), name);
	mkdir(dir, 0700);
	return dir;
}

/* Every table of the sample: 0600, a header row, CRLF only. */
static void
test_csv_sample(void)
{
	AUTOJSON cJSON *doc = load_sample();
	if (!doc) {
		return;
	}
	AUTOFREE char *dir = mkdir_in_tmp("csv-sample");
	char **names = NULL, err[512] = "";
	int r = report_csv_write(doc, dir, &names, err, sizeof(err));
	if (!th_inteq(r, 0, "sample: CSV written (%s)", err)) {
		return;
	}
	size_t n = 0;
	while (names[n]) {
		n++;
	}
	th_inteq((long long)n, 24, "sample: 24 tables");
	for (size_t i = 0; i < n; i++) {
		AUTOFREE char *path = lw_asprintf("%s/%s", dir, names[i]);
		struct stat st;
		th_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "sample: %s is 0600",
		      names[i]);
		size_t len = 0;
		AUTOFREE char *text = slurp(path, &len);
		bool crlf = text && len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n';
		for (size_t j = 0; crlf && j < len; j++) {
			if (text[j] == '\n' && (j == 0 || text[j - 1] != '\r')) {
				crlf = false;
			}
		}
		th_ok(crlf, "sample: %s has CRLF line ends only", names[i]);
	}
	static const struct {
		const char *file, *head;
	} heads[] = {
		{"envelope.csv", "key,value\r\nschema,leakwatch-report/1\r\n"},
		{"coverage_silent.csv", "agent,since,until,seconds\r\n"},
		{"coverage_daily.csv", "agent,day,coverage\r\nws-0142,2026-11-23,1\r\n"},
		{"summary_headline.csv", "figure,value,previous,delta\r\nclassified,14,11,3\r\n"},
		{"custody_places.csv", "sha256,marking,registered,agent,path,first_seen,last_seen,"
				       "deleted\r\n"},
		{"violations.csv", "time,agent,rule,severity,action,action_result,event,path,from,"
				   "owner,marking,by\r\n"},
		{"integrity_chains.csv", "agent,first_seq,last_seq,events,head,status\r\n"},
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(heads); i++) {
		AUTOFREE char *path = lw_asprintf("%s/%s", dir, heads[i].file);
		AUTOFREE char *text = slurp(path, NULL);
		th_ok(text && strncmp(text, heads[i].head, strlen(heads[i].head)) == 0,
		      "sample: %s starts with its header", heads[i].file);
	}
	AUTOFREE char *cov = lw_asprintf("%s/coverage_agents.csv", dir);
	AUTOFREE char *text = slurp(cov, NULL);
	th_ok(text && strstr(text, ",unexamined_permission,unexamined_size_cap,"),
	      "sample: unexamined flattened in coverage_agents.csv");
	free_names(names);
}

/* Quoting, formula defusing, bytes that are not UTF-8, negative deltas. */
static void
test_csv_crafted(void)
{
	static const char doc_text[] =
		"{\"violations\":{\"rows\":[{\"time\":\"t\",\"agent\":\"a,b\","
		"\"rule\":\"=HYPERLINK(\\\"http://x\\\")\",\"severity\":\"+1\","
		"\"action\":\"@SUM(A1)\",\"action_result\":\"-2\",\"event\":\"\\tx\","
		"\"path\":\"/home/e/say \\\"hi\\\"\\nnow.txt\",\"from\":null,"
		"\"owner\":\"bad\\udcffbyte\",\"marking\":7}]},"
		"\"summary\":{\"classified\":{\"value\":1,\"previous\":4},"
		"\"top_rules\":[{\"key\":\"r\",\"value\":0.25,\"previous\":1}]}}";
	AUTOJSON cJSON *doc = parse(doc_text, strlen(doc_text));
	if (!doc) {
		return;
	}
	AUTOFREE char *dir = mkdir_in_tmp("csv-crafted");
	char **names = NULL, err[512] = "";
	if (!th_inteq(report_csv_write(doc, dir, &names, err, sizeof(err)), 0,
		      "crafted: CSV written (%s)", err)) {
		return;
	}
	free_names(names);
	AUTOFREE char *vp = lw_asprintf("%s/violations.csv", dir);
	AUTOFREE char *v = slurp(vp, NULL);
	th_streq(v,
		 "time,agent,rule,severity,action,action_result,event,path,from,owner,marking,by\r\n"
		 "t,\"a,b\",\"'=HYPERLINK(\"\"http://x\"\")\",\"'+1\",\"'@SUM(A1)\",\"'-2\","
		 "\"'\tx\",\"/home/e/say \"\"hi\"\"\nnow.txt\",,bad\\xffbyte,7,\r\n",
		 "crafted: quoted, defused, escaped");
	AUTOFREE char *hp = lw_asprintf("%s/summary_headline.csv", dir);
	AUTOFREE char *h = slurp(hp, NULL);
	th_ok(h && strstr(h, "\r\nclassified,1,4,-3\r\n") && strstr(h, "\r\nfiles_new,,,\r\n"),
	      "crafted: a negative delta is a number, a missing figure empty");
	AUTOFREE char *tp = lw_asprintf("%s/summary_top_rules.csv", dir);
	AUTOFREE char *t = slurp(tp, NULL);
	th_streq(t, "rule,value,previous,delta\r\nr,0.25,1,-0.75\r\n", "crafted: fractions");
	AUTOFREE char *pp = lw_asprintf("%s/policy_changes.csv", dir);
	AUTOFREE char *p = slurp(pp, NULL);
	th_streq(p, "time,agent,sha256,rules,file\r\n", "crafted: an empty table has its header");
}

/* Wrong types everywhere: every table written, header only. */
static void
test_csv_wrong_types(void)
{
	static const char *const docs[] = {
		"{}",
		"[]",
		"{\"envelope\":1,\"coverage\":{\"agents\":{\"a\":{\"daily\":[1]}},\"days\":3},"
		"\"summary\":[],\"violations\":{\"rows\":\"x\",\"by_rule\":{\"k\":1}},"
		"\"custody\":{\"documents\":[1,{\"places\":{}},{\"places\":[null]}]},"
		"\"controls\":{\"x\":[]}}",
	};
	for (size_t i = 0; i < LW_ARRAY_SIZE(docs); i++) {
		AUTOJSON cJSON *doc = parse(docs[i], strlen(docs[i]));
		AUTOFREE char *name = lw_asprintf("csv-wrong-%zu", i);
		AUTOFREE char *dir = mkdir_in_tmp(name);
		char **names = NULL, err[512] = "";
		th_inteq(report_csv_write(doc, dir, &names, err, sizeof(err)), 0,
			 "wrong types %zu: written (%s)", i, err);
		free_names(names);
		AUTOFREE char *vp = lw_asprintf("%s/violations_by_rule.csv", dir);
		AUTOFREE char *v = slurp(vp, NULL);
		th_streq(v, "rule,count\r\n", "wrong types %zu: header only", i);
	}
	char **names = NULL, err[512] = "";
	AUTOJSON cJSON *doc = cJSON_CreateObject();
	int r = report_csv_write(doc, "/nonexistent/dir", &names, err, sizeof(err));
	th_ok(r == -ENOENT && names == NULL && strstr(err, "/nonexistent/dir/envelope.csv"),
	      "missing directory: -ENOENT naming the file (%d, %s)", r, err);
}

/* A fresh key of @type as PEM files: the private key and its public key. */
static bool
make_key(const char *type, const char *priv, const char *pub)
{
	EVP_PKEY *k = strcmp(type, "EC") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
					      : EVP_PKEY_Q_keygen(NULL, NULL, type);
	if (!k) {
		return false;
	}
	FILE *f = fopen(priv, "we");
	FILE *g = fopen(pub, "we");
	bool ok = f && g && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1 &&
		  PEM_write_PUBKEY(g, k) == 1;
	if (f) {
		fclose(f);
	}
	if (g) {
		fclose(g);
	}
	EVP_PKEY_free(k);
	return ok;
}

/* report_verify() with its output captured into *text (caller frees). */
static int
verify(const char *path, const char *trusted, char **text)
{
	size_t len = 0;
	FILE *m = open_memstream(text, &len);
	char err[512] = "";
	int r = report_verify(path, trusted, m, err, sizeof(err));
	fclose(m);
	if (r < 0) {
		th_ok(false, "verify %s: %s", path, err);
	}
	return r;
}

static void
flip_byte(const char *path, long off)
{
	FILE *f = fopen(path, "r+e");
	if (!f) {
		return;
	}
	fseek(f, off, SEEK_SET);
	int c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
}

static void
test_sign(const char *type, const char *alg)
{
	AUTOFREE char *dir = mkdir_in_tmp(type);
	AUTOFREE char *priv = lw_asprintf("%s/key.pem", dir);
	AUTOFREE char *pub = lw_asprintf("%s/pub.pem", dir);
	AUTOFREE char *opriv = lw_asprintf("%s/other.pem", dir);
	AUTOFREE char *opub = lw_asprintf("%s/otherpub.pem", dir);
	if (!th_ok(make_key(type, priv, pub) && make_key(type, opriv, opub), "%s: keys generated",
		   type)) {
		return;
	}
	AUTOJSON cJSON *doc = load_sample();
	if (!doc) {
		return;
	}
	AUTOFREE char *out = lw_asprintf("%s/r.json", dir);
	AUTOFREE char *written = NULL;
	char err[512] = "";
	int r = report_write(doc, REPORT_FORMAT_JSON, out, priv, &written, err, sizeof(err));
	if (!th_inteq(r, 0, "%s: JSON report written and signed (%s)", type, err)) {
		return;
	}
	AUTOFREE char *sig = lw_asprintf("%s.sig", out);
	struct stat st;
	th_ok(stat(sig, &st) == 0 && (st.st_mode & 0777) == 0600, "%s: .sig is 0600", type);

	AUTOFREE char *t1 = NULL;
	th_inteq(verify(out, NULL, &t1), 0, "%s: verifies", type);
	AUTOFREE char *want = lw_asprintf("ok   signature %s key sha256:", alg);
	th_ok(t1 && strstr(t1, want) && strstr(t1, "ok   file r.json sha256 ") &&
		      strstr(t1, "chain ws-0142: head bb000000000000000000000000000000000000"
				 "00000000000000000000000002 covers events 1..180 (80 in the "
				 "period 101..180), status ok\n"),
	      "%s: says what it checked:\n%s", type, t1 ? t1 : "");
	AUTOFREE char *t2 = NULL;
	th_inteq(verify(sig, pub, &t2), 0, "%s: the .sig itself, --trust its key", type);
	AUTOFREE char *t3 = NULL;
	th_inteq(verify(out, opub, &t3), 2, "%s: --trust another key", type);
	th_ok(t3 && strstr(t3, "not the trusted key"), "%s: says the key is not trusted", type);

	flip_byte(out, 10);
	AUTOFREE char *t4 = NULL;
	th_inteq(verify(out, NULL, &t4), 2, "%s: one byte changed", type);
	th_ok(t4 && strstr(t4, "FAIL file r.json: digest differs"), "%s: names the file", type);
	flip_byte(out, 10);

	/* The statement changed: the digests match a forged list, the
	 * signature does not. */
	size_t len = 0;
	AUTOFREE char *text = slurp(sig, &len);
	char *p = text ? strstr(text, "2026-11-23T00") : NULL;
	if (th_ok(p != NULL, "%s: the statement holds the period", type)) {
		p[3] = '7';
		FILE *f = fopen(sig, "we");
		fwrite(text, 1, len, f);
		fclose(f);
		AUTOFREE char *t5 = NULL;
		th_inteq(verify(out, NULL, &t5), 2, "%s: statement changed", type);
		th_ok(t5 && strstr(t5, "FAIL signature"), "%s: signature fails", type);
	}
}

static void
test_unsigned(void)
{
	AUTOJSON cJSON *doc = load_sample();
	if (!doc) {
		return;
	}
	AUTOFREE char *dir = mkdir_in_tmp("unsigned");
	AUTOFREE char *out = lw_asprintf("%s/r.json", dir);
	AUTOFREE char *written = NULL;
	char err[512] = "";
	th_inteq(report_write(doc, REPORT_FORMAT_JSON, out, NULL, &written, err, sizeof(err)), 0,
		 "unsigned: written (%s)", err);
	AUTOFREE char *t = NULL;
	th_inteq(verify(out, NULL, &t), 1, "unsigned: verify says 1");
	th_ok(t && strstr(t, "UNSIGNED"), "unsigned: says so");
	flip_byte(out, 3);
	AUTOFREE char *t2 = NULL;
	th_inteq(verify(out, NULL, &t2), 2, "unsigned: a changed byte is still found");
}

/* A CSV directory signed with an EC key, verified by its directory. */
static void
test_csv_signed(void)
{
	AUTOFREE char *dir = mkdir_in_tmp("csv-signed");
	AUTOFREE char *priv = lw_asprintf("%s/key.pem", dir);
	AUTOFREE char *pub = lw_asprintf("%s/pub.pem", dir);
	if (!th_ok(make_key("EC", priv, pub), "csv: key generated")) {
		return;
	}
	AUTOJSON cJSON *doc = load_sample();
	if (!doc) {
		return;
	}
	AUTOFREE char *out = lw_asprintf("%s/csv", dir);
	AUTOFREE char *written = NULL;
	char err[512] = "";
	th_inteq(report_write(doc, REPORT_FORMAT_CSV, out, priv, &written, err, sizeof(err)), 0,
		 "csv: written and signed (%s)", err);
	AUTOFREE char *t = NULL;
	th_inteq(verify(out, pub, &t), 0, "csv: the directory verifies");
	AUTOFREE char *f = lw_asprintf("%s/violations.csv", out);
	flip_byte(f, 0);
	AUTOFREE char *t2 = NULL;
	th_inteq(verify(out, NULL, &t2), 2, "csv: a changed table is found");
	th_ok(t2 && strstr(t2, "FAIL file violations.csv"), "csv: names the table");
}

/* Malformed signature files: -EPROTO, never a verdict. */
static void
test_malformed(void)
{
	static const struct {
		const char *name, *sig;
	} cases[] = {
		{"not JSON", "{"},
		{"wrong format", "{\"format\":\"x\",\"statement\":\"{}\",\"algorithm\":null,"
				 "\"signature\":null,\"public_key\":null,\"key_sha256\":null}"},
		{"half signed", "{\"format\":\"leakwatch-report-signature/1\",\"statement\":"
				"\"{\\\"files\\\":[]}\",\"algorithm\":\"ed25519\",\"signature\":"
				"null,\"public_key\":null,\"key_sha256\":null}"},
		{"path in a name", "{\"format\":\"leakwatch-report-signature/1\",\"statement\":"
				   "\"{\\\"files\\\":[{\\\"name\\\":\\\"../etc\\\",\\\"sha256\\\":"
				   "\\\"0000000000000000000000000000000000000000000000000000000000"
				   "000000\\\"}]}\",\"algorithm\":null,\"signature\":null,"
				   "\"public_key\":null,\"key_sha256\":null}"},
		{"unknown member", "{\"format\":\"leakwatch-report-signature/1\",\"statement\":"
				   "\"{\\\"files\\\":[]}\",\"algorithm\":null,\"signature\":null,"
				   "\"public_key\":null,\"key_sha256\":null,\"x\":1}"},
		{"duplicate key", "{\"format\":\"leakwatch-report-signature/1\",\"format\":\"y\"}"},
	};
	AUTOFREE char *dir = mkdir_in_tmp("malformed");
	AUTOFREE char *sig = lw_asprintf("%s/m.sig", dir);
	for (size_t i = 0; i < LW_ARRAY_SIZE(cases); i++) {
		FILE *f = fopen(sig, "we");
		fputs(cases[i].sig, f);
		fclose(f);
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		char err[512] = "";
		int r = report_verify(sig, NULL, m, err, sizeof(err));
		fclose(m);
		free(text);
		th_ok(r == -EPROTO && err[0], "malformed: %s refused (%d, %s)", cases[i].name, r,
		      err);
	}
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char err[512] = "";
	AUTOFREE char *missing = lw_asprintf("%s/none.json", dir);
	int r = report_verify(missing, NULL, m, err, sizeof(err));
	fclose(m);
	free(text);
	th_inteq(r, -ENOENT, "a missing report: -ENOENT (%s)", err);
}

int
main(void)
{
	test_csv_sample();
	test_csv_crafted();
	test_csv_wrong_types();
	test_sign("EC", "ecdsa-sha256");
	test_sign("ED25519", "ed25519");
	test_unsigned();
	test_csv_signed();
	test_malformed();
	return th_done();
}
