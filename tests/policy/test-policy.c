/* test-policy.c — policy parsing, located errors, zones, evaluation,
 * signatures and volume windows. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy.h"

static struct policy *
load(const char *json, char *err, size_t errlen)
{
	struct cfg_ctx ctx = {.file = "p.json"};
	cJSON *root = NULL;
	struct policy *p = NULL;
	if (cfg_parse_buffer(&ctx, json, strlen(json), &root) == 0) {
		policy_from_json(root, &ctx, &p);
	}
	cJSON_Delete(root);
	if (err) {
		snprintf(err, errlen, "%s", ctx.err);
	}
	return p;
}

static void
bad(const char *json, const char *want)
{
	char err[1024] = "";
	struct policy *p = load(json, err, sizeof(err));
	th_ok(!p && strstr(err, want) != NULL, "refused with \"%s\" (got \"%s\")", want, err);
	policy_free(p);
}

static const char *
zones_str(const struct policy *p, uint64_t m, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned z = 0; z < policy_zone_count(p); z++) {
		if (m >> z & 1) {
			strncat(buf, policy_zone_name(p, z), len - strlen(buf) - 2);
			strncat(buf, " ", len - strlen(buf) - 1);
		}
	}
	return buf;
}

static int
rule_index(const struct policy *p, const char *id)
{
	for (unsigned i = 0; i < policy_rule_count(p); i++) {
		struct policy_rule_info ri;
		policy_rule_info(p, i, &ri);
		if (strcmp(ri.id, id) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* Evaluates @p for a file at @path; returns true if rule @id holds. */
static bool
holds(const struct policy *p, const char *id, const char *path, int rank, const char *scheme,
      enum policy_event ev, const char *from, uint32_t mode)
{
	struct policy_file f = {.path = path, .len = strlen(path), .rank = rank,
				.scheme = scheme, .mode = mode};
	struct policy_event_ctx e = {.kind = ev, .zones = policy_zones_of(p, path, strlen(path))};
	if (from) {
		e.from_zones = policy_zones_of(p, from, strlen(from));
	}
	unsigned hits[64];
	size_t n = policy_eval(p, &f, &e, hits, 64);
	int want = rule_index(p, id);
	for (size_t i = 0; i < n; i++) {
		if ((int)hits[i] == want) {
			return true;
		}
	}
	return false;
}

static void
test_default(void)
{
	struct policy *p = policy_default();
	th_ok(policy_rule_count(p) >= 6, "the shipped policy has rules (%zu)", policy_rule_count(p));
	char buf[256];
	const char *s = "/home/ana/Downloads/report.pdf";
	th_streq(zones_str(p, policy_zones_of(p, s, strlen(s)), buf, sizeof(buf)), "staging ",
		 "Downloads is staging");
	s = "/run/media/ana/USB/x.docx";
	th_streq(zones_str(p, policy_zones_of(p, s, strlen(s)), buf, sizeof(buf)), "removable ",
		 "/run/media is removable");
	s = "/home/ana/Nextcloud/Work/x.docx";
	th_streq(zones_str(p, policy_zones_of(p, s, strlen(s)), buf, sizeof(buf)), "sync ",
		 "Nextcloud is sync");
	s = "/srv/classified/ops/plan.odt";
	th_streq(zones_str(p, policy_zones_of(p, s, strlen(s)), buf, sizeof(buf)), "secure ",
		 "/srv/classified is secure");
	s = "/home/ana/Documents/plan.odt";
	th_streq(zones_str(p, policy_zones_of(p, s, strlen(s)), buf, sizeof(buf)), "",
		 "Documents is in no zone");

	th_ok(holds(p, "classified-in-staging", "/tmp/x.txt", 4, "NATO", POLICY_EV_CREATED, NULL,
		    0600),
	      "NATO SECRET in /tmp: classified-in-staging");
	th_ok(!holds(p, "classified-in-staging", "/srv/classified/x.txt", 4, "NATO",
		     POLICY_EV_CREATED, NULL, 0600),
	      "NATO SECRET in the secure zone: no staging violation");
	th_ok(!holds(p, "classified-in-staging", "/tmp/x.txt", 1, "NATO", POLICY_EV_CREATED, NULL,
		     0600),
	      "NATO UNCLASSIFIED is below RESTRICTED");
	th_ok(holds(p, "left-secure-zone", "/media/usb/x.txt", 4, "NATO", POLICY_EV_MOVED,
		    "/srv/classified/x.txt", 0600),
	      "moved from secure to removable: left-secure-zone");
	th_ok(!holds(p, "left-secure-zone", "/media/usb/x.txt", 4, "NATO", POLICY_EV_CREATED, NULL,
		     0600),
	      "created on removable: not a departure from secure");
	th_ok(holds(p, "classified-world-readable", "/srv/classified/x.txt", 3, "EU",
		    POLICY_EV_CHMOD, NULL, 0644),
	      "chmod o+r on a classified file");
	th_ok(!holds(p, "classified-world-readable", "/srv/classified/x.txt", 3, "EU",
		     POLICY_EV_CHMOD, NULL, 0640),
	      "chmod without o+r");
	th_ok(!holds(p, "classified-in-staging", "/tmp/x.txt", 0, NULL, POLICY_EV_CREATED, NULL,
		     0644),
	      "an unclassified file raises nothing");
	char *ex = policy_explain(p);
	th_ok(ex && strstr(ex, "bulk-staging [critical, alert]") && strstr(ex, "per owner"),
	      "explain names rules, severity, action and volume");
	free(ex);
	policy_free(p);
}

static void
test_conditions(void)
{
	const char *json =
		"{\"zones\": {\"vault\": [\"/vault/**\"], \"staging\": [\"/out/**\"]},"
		" \"detectors\": [{\"id\": \"proj\", \"keywords\": [\"Project Nightjar\"]}],"
		" \"rules\": ["
		"  {\"id\": \"reg\", \"severity\": \"high\","
		"   \"match\": {\"registered\": {\"ids\": [\"doc-1\"], \"min_coverage\": 0.3}}},"
		"  {\"id\": \"pii\", \"severity\": \"low\","
		"   \"match\": {\"pii\": {\"types\": [\"iban\", \"credit_card\"], \"min_count\": 3}},"
		"   \"where\": {\"in\": [\"staging\"]}},"
		"  {\"id\": \"det\", \"severity\": \"medium\", \"match\": {\"detectors\": [\"proj\"]}},"
		"  {\"id\": \"both\", \"severity\": \"critical\", \"match\": {\"all\": true,"
		"   \"classification\": {\"min\": \"SECRET\", \"schemes\": [\"EU\"]},"
		"   \"detectors\": [\"proj\"]}},"
		"  {\"id\": \"off\", \"severity\": \"low\", \"enabled\": false,"
		"   \"match\": {\"detectors\": [\"proj\"]}}"
		"]}";
	char err[1024] = "";
	struct policy *p = load(json, err, sizeof(err));
	th_ok(p != NULL, "a policy with every condition loads (%s)", err);
	if (!p) {
		return;
	}
	th_inteq((long long)policy_rule_count(p), 4, "a disabled rule is left out");
	th_streq(policy_detectors_json(p),
		 "[{\"id\":\"proj\",\"keywords\":[\"Project Nightjar\"]}]",
		 "detectors as canonical JSON for the helper");
	struct policy_match m[] = {{"doc-2", 0.9}, {"doc-1", 0.2}};
	struct policy_pii pii[] = {{"iban", 2}, {"pt_nif", 5}, {"credit_card", 1}};
	const char *det[] = {"proj"};
	struct policy_file f = {.path = "/out/a", .len = 6, .matches = m, .n_matches = 2,
				.pii = pii, .n_pii = 3};
	struct policy_event_ctx e = {.kind = POLICY_EV_CREATED,
				     .zones = policy_zones_of(p, "/out/a", 6)};
	unsigned hits[8];
	size_t n = policy_eval(p, &f, &e, hits, 8);
	th_ok(n == 1 && hits[0] == (unsigned)rule_index(p, "pii"),
	      "coverage below min and another id: no reg; iban+card = 3: pii");
	m[1].coverage = 0.5;
	f.n_pii = 1;
	n = policy_eval(p, &f, &e, hits, 8);
	th_ok(n == 1 && hits[0] == (unsigned)rule_index(p, "reg"), "doc-1 at 0.5: reg only");
	f.detectors = det;
	f.n_detectors = 1;
	f.rank = 4;
	f.scheme = "NATO";
	n = policy_eval(p, &f, &e, hits, 8);
	th_ok(n == 2, "detector fires; NATO is not EU so 'both' does not hold (%zu)", n);
	f.scheme = "EU";
	n = policy_eval(p, &f, &e, hits, 8);
	th_ok(n == 3, "EU SECRET with the detector: 'both' holds (%zu)", n);
	policy_free(p);
}

static void
test_errors(void)
{
	bad("{\"rules\": [}", "p.json:1:");
	bad("{\"rulez\": []}", "p.json: /rulez: unknown key");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"urgent\"}]}", "/rules/0: \"severity\"");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"match\": {\"classification\":"
	    " {\"min\": \"SECRETT\"}}}]}",
	    "/rules/0/match/classification: \"min\": \"SECRETT\"");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"where\": {\"in\": [\"vault\"]}}]}",
	    "/rules/0/where: \"in\": no zone named \"vault\"");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\"}, {\"id\": \"a\", \"severity\": "
	    "\"low\"}]}",
	    "/rules/1: \"id\": \"a\" is used by /rules/0 too");
	bad("{\"detectors\": [{\"id\": \"d\", \"patterns\": [\"(unclosed\"]}]}",
	    "/detectors/0: \"patterns\"");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"match\": {\"detectors\":"
	    " [\"nope\"]}}]}",
	    "/rules/0/match/detectors: no detector with id \"nope\"");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"how\": {\"events\": "
	    "[\"created\"], \"from\": [\"secure\"]}}]}",
	    "/rules/0/how: \"from\" needs");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"volume\": {\"count\": 5}}]}",
	    "/rules/0/volume/window_s: required key missing");
	bad("{\"zones\": {\"Bad Name\": []}}", "/zones/Bad Name: a zone name");
	bad("{\"rules\": [{\"id\": \"a\", \"severity\": \"low\", \"match\": {}}]}",
	    "/rules/0/match: names no condition");
	bad("[]", "must be a JSON object");
}

static void
test_signatures(void)
{
	const char *a = "{\"zones\": {\"secure\": [\"/s/**\"]}, \"rules\": ["
			"{\"id\": \"r\", \"severity\": \"low\", \"where\": {\"not_in\": [\"secure\"]},"
			" \"match\": {\"registered\": true}},"
			"{\"id\": \"q\", \"severity\": \"low\", \"match\": {\"registered\": true}}]}";
	const char *b = "{\"zones\": {\"secure\": [\"/s/**\"]}, \"rules\": ["
			"{\"id\": \"r\", \"severity\": \"low\", \"where\": {\"not_in\": [\"secure\"]},"
			" \"match\": {\"registered\": true}},"
			"{\"id\": \"q\", \"severity\": \"high\", \"match\": {\"registered\": true}}]}";
	const char *c = "{\"zones\": {\"secure\": [\"/t/**\"]}, \"rules\": ["
			"{\"id\": \"r\", \"severity\": \"low\", \"where\": {\"not_in\": [\"secure\"]},"
			" \"match\": {\"registered\": true}},"
			"{\"id\": \"q\", \"severity\": \"low\", \"match\": {\"registered\": true}}]}";
	struct policy *pa = load(a, NULL, 0), *pb = load(b, NULL, 0), *pc = load(c, NULL, 0);
	struct policy_rule_info ra, rb, rc, qa, qb, qc;
	policy_rule_info(pa, 0, &ra);
	policy_rule_info(pb, 0, &rb);
	policy_rule_info(pc, 0, &rc);
	policy_rule_info(pa, 1, &qa);
	policy_rule_info(pb, 1, &qb);
	policy_rule_info(pc, 1, &qc);
	th_ok(memcmp(ra.sig, rb.sig, sizeof(ra.sig)) == 0, "another rule's change keeps a signature");
	th_ok(memcmp(qa.sig, qb.sig, sizeof(qa.sig)) != 0, "a rule's own change changes it");
	th_ok(memcmp(ra.sig, rc.sig, sizeof(ra.sig)) != 0, "a change of a zone it names changes it");
	th_ok(memcmp(qa.sig, qc.sig, sizeof(qa.sig)) == 0, "a zone it does not name does not");
	policy_free(pa);
	policy_free(pb);
	policy_free(pc);
}

static void
test_volume(void)
{
	struct policy_rule_info ri = {.volume = true, .volume_count = 5, .volume_window_s = 10,
				      .volume_per = POLICY_PER_OWNER};
	struct policy_volume *v = policy_volume_new();
	unsigned raised = 0, count = 0;
	for (int i = 0; i < 60; i++) { /* 60 files in 6 s */
		unsigned c = policy_volume_add(v, 0, &ri, 1000, 100000 + i * 100);
		raised += c > 0;
		count = c ? c : count;
	}
	th_inteq(raised, 1, "one burst of 60: one bulk violation");
	th_inteq(count, 5, "raised when the count was reached");
	th_inteq(policy_volume_add(v, 0, &ri, 1001, 106000), 0, "another owner counts apart");
	/* quiet for more than the window: a new burst */
	raised = 0;
	for (int i = 0; i < 5; i++) {
		raised += policy_volume_add(v, 0, &ri, 1000, 120000 + i) > 0;
	}
	th_inteq(raised, 1, "after a quiet window a new burst raises again");
	/* spread out: 5 files, one every 4 s, never 5 within 10 s */
	raised = 0;
	for (int i = 0; i < 20; i++) {
		raised += policy_volume_add(v, 1, &ri, 7, 500000 + i * 4000) > 0;
	}
	th_inteq(raised, 0, "a trickle below the rate never raises");
	ri.volume_per = POLICY_PER_MACHINE;
	raised = 0;
	for (int i = 0; i < 5; i++) {
		raised += policy_volume_add(v, 2, &ri, (uint32_t)i, 900000 + i) > 0;
	}
	th_inteq(raised, 1, "per machine: owners count together");
	policy_volume_free(v);
}

int
main(void)
{
	test_default();
	test_conditions();
	test_errors();
	test_signatures();
	test_volume();
	return th_done();
}
