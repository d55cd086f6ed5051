/* cli-fingerprint.c — `leakwatch fingerprint add|list|remove`: the
 * registered sensitive documents (and benign boilerplate) in the agent's
 * database. add hands each file to a leakwatch-classify helper, which
 * returns its winnowed fingerprints; the CLI never parses the document.
 * Single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "clock.h"
#include "fpstore.h"
#include "hash.h"
#include "helper.h"
#include "json.h"
#include "mem.h"
#include "wire.h"

static int
fp_add(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"label", required_argument, NULL, 'l'},
		{"benign", no_argument, NULL, 'b'},
		{0},
	};
	const char *id = NULL, *label = NULL;
	bool benign = false;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			id = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'b':
			benign = true;
			break;
		default:
			return 2;
		}
	}
	int nfiles = argc - optind;
	if (nfiles < 1 || (!benign && !label) || (id && nfiles != 1) ||
	    (id && (strlen(id) == 0 || strlen(id) >= 64))) {
		fprintf(stderr,
			"usage: leakwatch -d DB fingerprint add --id ID --label MARKING FILE\n"
			"       leakwatch -d DB fingerprint add --label MARKING FILE...  (id: file name)\n"
			"       leakwatch -d DB fingerprint add --benign FILE...\n");
		return 2;
	}
	struct store *st = NULL;
	if (cli_open_writer(c, &st) < 0) {
		return 2;
	}
	struct helper_opts ho = {0};
	classify_limits_default(&ho.lim);
	struct helper *h = helper_new(&ho);
	int status = 0;
	for (int i = optind; i < argc; i++) {
		const char *path = argv[i];
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			fprintf(stderr, "leakwatch: %s: %s\n", path,
				fd < 0 ? strerror(errno) : "not a regular file");
			if (fd >= 0) {
				close(fd);
			}
			status = 2;
			continue;
		}
		AUTOFREE char *json = NULL;
		AUTOFREE unsigned char *fps = NULL;
		size_t fps_len = 0;
		helper_fingerprint(h, fd, path, &json, &fps, &fps_len);
		close(fd);
		cJSON *r = cJSON_Parse(json);
		const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(r, WIRE_KEY_ERROR));
		const char *sha_hex = cJSON_GetStringValue(cJSON_GetObjectItem(r, WIRE_KEY_SHA256));
		uint8_t sha[LW_SHA256_LEN];
		if (!sha_hex || lw_unhex_sha256(sha_hex, sha) < 0) {
			fprintf(stderr, "leakwatch: %s: %s\n", path, err ? err : "no result");
			cJSON_Delete(r);
			status = 2;
			continue;
		}
		if (err) {
			fprintf(stderr, "leakwatch: %s: warning: %s\n", path, err);
		}
		char derived[64];
		const char *this_id = id;
		if (!this_id) {
			const char *base = strrchr(path, '/');
			base = base ? base + 1 : path;
			snprintf(derived, sizeof(derived), "%s", base);
			char *dot = strrchr(derived, '.');
			if (dot && dot != derived) {
				*dot = '\0';
			}
			this_id = derived;
		}
		struct fpstore_doc d = {
			.id = this_id, .label = label ? label : "", .sha256 = sha, .source = path,
			.source_len = strlen(path), .fps = fps, .fps_len = fps_len,
			.nfps = fps_len / 8,
		};
		int w = benign ? fpstore_put_benign(store_db(st), &d, clock_wall_ns())
			       : fpstore_put(store_db(st), &d, clock_wall_ns());
		if (w < 0) {
			status = 2;
		} else if (benign) {
			printf("benign %s: %zu fingerprints\n", path, d.nfps);
		} else {
			printf("registered %s as %s (%s): %zu fingerprints\n", path, this_id,
			       label, d.nfps);
		}
		if (d.nfps == 0 && !benign) {
			fprintf(stderr, "leakwatch: %s: no text to fingerprint; only exact copies"
					" will match\n", path);
		}
		cJSON_Delete(r);
	}
	helper_free(h);
	store_close(st);
	return status;
}

static int
print_doc(const struct fpstore_doc *d, int64_t added, void *ctx)
{
	struct cli *c = ctx;
	char hex[LW_SHA256_HEX_LEN + 1];
	lw_hex(d->sha256, LW_SHA256_LEN, hex);
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, WIRE_KEY_MATCH_ID, d->id);
		cJSON_AddStringToObject(o, WIRE_KEY_LABEL, d->label);
		cJSON_AddStringToObject(o, WIRE_KEY_SHA256, hex);
		cJSON_AddNumberToObject(o, WIRE_KEY_FINGERPRINTS, (double)d->nfps);
		if (d->source) {
			cJSON_AddItemToObject(o, "source", wire_json_bytes(d->source, d->source_len));
		}
		char t[48];
		cli_format_time(added, t, sizeof(t));
		cJSON_AddStringToObject(o, "added", t);
		char *s = cJSON_PrintUnformatted(o);
		puts(s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else {
		printf("%-16s %-28s %6zu fingerprints  %s\n", d->id, d->label, d->nfps, hex);
	}
	return 0;
}

int
cli_fingerprint(struct cli *c, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: leakwatch -d DB fingerprint add|list|remove ...\n");
		return 2;
	}
	const char *sub = argv[1];
	argc--;
	argv++;
	optind = 1;
	if (strcmp(sub, "add") == 0) {
		return fp_add(c, argc, argv);
	}
	if (strcmp(sub, "list") == 0) {
		if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0)) {
			fprintf(stderr, "usage: leakwatch fingerprint list [--json]\n");
			return 2;
		}
		c->json = c->json || argc == 2;
		struct store *st = NULL;
		if (cli_open_store(c, &st) < 0) {
			return 2;
		}
		int r = fpstore_list(store_db(st), print_doc, c);
		store_close(st);
		return r < 0 ? 2 : 0;
	}
	if (strcmp(sub, "remove") == 0 && argc == 2) {
		struct store *st = NULL;
		if (cli_open_writer(c, &st) < 0) {
			return 2;
		}
		int r = fpstore_remove(store_db(st), argv[1]);
		store_close(st);
		if (r == 0) {
			fprintf(stderr, "leakwatch: no registered document %s\n", argv[1]);
			return 1;
		}
		return r < 0 ? 2 : 0;
	}
	fprintf(stderr, "usage: leakwatch -d DB fingerprint add|list|remove ...\n");
	return 2;
}
