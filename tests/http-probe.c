/* http-probe.c — drives common/http-client.c for the collector tests:
 *   http-probe URL CA CERT KEY CRL|- METHOD PATH [N]
 * sends standard input as the body (POST) N times (default 1) over one
 * client, and prints per request "STATUS BODY" on one line, or
 * "ERROR -ERRNO MESSAGE" when no answer came. Exit 0 if every request
 * got an answer. Also prints "CONNECTIONS n": how many TLS connections
 * libcurl opened, to show that the handle keeps its connection alive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-client.h"
#include "mem.h"

int
main(int argc, char **argv)
{
	if (argc < 8) {
		fprintf(stderr, "usage: http-probe URL CA CERT KEY CRL|- METHOD PATH [N]\n");
		return 2;
	}
	struct lw_http_opts o = {.url_base = argv[1], .ca = argv[2], .cert = argv[3],
				 .key = argv[4], .crl = strcmp(argv[5], "-") ? argv[5] : NULL,
				 .timeout_ms = 20000};
	int n = argc > 8 ? atoi(argv[8]) : 1;
	size_t cap = 1 << 16, len = 0;
	char *body = lw_malloc(cap);
	if (strcmp(argv[6], "POST") == 0) {
		size_t got;
		while ((got = fread(body + len, 1, cap - len, stdin)) > 0) {
			len += got;
			if (len == cap) {
				cap *= 2;
				body = lw_realloc(body, cap);
			}
		}
	}
	struct lw_http_client *c = NULL;
	char err[512];
	if (lw_http_client_new(&o, &c, err, sizeof(err)) < 0) {
		printf("ERROR new %s\n", err);
		free(body);
		return 1;
	}
	int status = 0;
	for (int i = 0; i < n; i++) {
		long code = 0;
		char *resp = NULL;
		int r = lw_http_request(c, argv[6], argv[7], body, len, &code, &resp, NULL);
		if (r < 0) {
			printf("ERROR %d %s\n", r, lw_http_client_error(c));
			status = 1;
			continue;
		}
		printf("%ld %s\n", code, resp);
		free(resp);
	}
	printf("CONNECTIONS %ld\n", lw_http_client_connections(c));
	lw_http_client_free(c);
	free(body);
	return status;
}
