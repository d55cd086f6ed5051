/* main.c — leakwatch-collector: start-up ladder, then the server's event
 * loop. Exit status: 0 after SIGTERM/SIGINT, 1 runtime failure, 2 bad
 * usage or configuration. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw-paths.h" /* LW_SYSCONFDIR: the configured installation */
#include "collector-config.h"
#include "log.h"
#include "server.h"
#include "cstore.h"
#include "tls.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: leakwatch-collector [-c collector.json] [--check-config] [-V] [-h]\n"
		   "\n"
		   "  -c, --config FILE   configuration (default " LW_SYSCONFDIR "/leakwatch/collector.json)\n"
		   "  --check-config      validate the configuration and the TLS files, then exit\n"
		   "  -V, --version       print the version\n"
		   "  -h, --help          this help\n");
}

int
main(int argc, char **argv)
{
	log_init("leakwatch-collector");
	const char *config = LW_SYSCONFDIR "/leakwatch/collector.json";
	bool check = false;
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'V':
			printf("leakwatch-collector %s\n", LW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	char err[1024];
	struct collector_config *cfg = NULL;
	if (collector_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "leakwatch-collector: %s\n", err);
		return 2;
	}
	log_set_level(cfg->log_level);
	int status = 1;
	struct cstore *store = NULL;
	struct server *srv = NULL;
	if (check) {
		/* the TLS files are checked by building the context */
		struct lw_tls_files files = {.ca = cfg->tls_ca, .cert = cfg->tls_cert,
					     .key = cfg->tls_key, .crl = cfg->tls_crl};
		SSL_CTX *ctx = NULL;
		if (lw_tls_ctx_new(LW_TLS_ROLE_SERVER, &files, &ctx, err, sizeof(err)) < 0) {
			fprintf(stderr, "leakwatch-collector: %s: /tls: %s\n", cfg->file, err);
			status = 2;
			goto fail_store;
		}
		SSL_CTX_free(ctx);
	}
	if (cstore_open(cfg->database, &store, err, sizeof(err)) < 0) {
		log_err("collector: %s: /database: %s", cfg->file, err);
		status = 2;
		goto fail_store;
	}
	if (check) {
		printf("%s: ok\n", config);
		status = 0;
		goto fail_server;
	}
	if (server_new(cfg, store, &srv) < 0) {
		status = 2;
		goto fail_server;
	}
	status = server_run(srv) < 0 ? 1 : 0;
	server_free(srv);
	log_info("collector: stopped");
fail_server:
	cstore_close(store);
fail_store:
	collector_config_free(cfg);
	return status;
}
