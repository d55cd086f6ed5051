/* generator.c — leakwatch-generator: a systemd generator (see
 * systemd.generator(7) and leakwatch-generator(8)) that gives the agent's
 * unit write access where the configuration says it works, and nowhere else.
 *
 * leakwatchd.service makes the whole file system read-only
 * (ProtectSystem=strict, ProtectHome=read-only). The agent must still write
 * into the watched roots: quarantine renames a file out of the directory
 * it was found in, and a restore renames it back. Those roots are in
 * agent.json, not in the unit, so at every boot and daemon-reload this
 * writes leakwatchd.service.d/50-watched-roots.conf into the generator
 * directory with one ReadWritePaths= per root and for the state directory.
 *
 * Generators run before most file systems are mounted: the roots are taken
 * as written when they do not resolve yet (agent_config_load with
 * need_roots false), and each line carries systemd's "-" prefix so that a
 * root missing at start is skipped rather than failing the unit. A
 * configuration that does not load writes nothing: the unit's own
 * ExecStartPre --check-config then refuses to start with the message that
 * names the file and the place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent-config.h"
#include "lw-paths.h"
#include "mem.h"

#define DROPIN_DIR "leakwatchd.service.d"
#define DROPIN_NAME "50-watched-roots.conf"

/* One ReadWritePaths= line for @path, quoted for the unit-file parser
 * (spaces, quotes, backslashes, and '%' which is a specifier there). A
 * path with a control character cannot be written safely on one line:
 * refused, with a message. */
static int
put_path(FILE *f, const char *path)
{
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			fprintf(stderr,
				"leakwatch-generator: %s: a control character in a watched path;"
				" left read-only\n",
				path);
			return -EINVAL;
		}
	}
	fputs("ReadWritePaths=\"-", f);
	for (const char *p = path; *p; p++) {
		if (*p == '%') {
			fputs("%%", f);
		} else {
			if (*p == '"' || *p == '\\') {
				fputc('\\', f);
			}
			fputc(*p, f);
		}
	}
	fputs("\"\n", f);
	return 0;
}

static int
write_dropin(const char *dir, const struct agent_config *cfg)
{
	AUTOFREE char *d = lw_asprintf("%s/" DROPIN_DIR, dir);
	if (mkdir(d, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		fprintf(stderr, "leakwatch-generator: %s: %s\n", d, strerror(e));
		return -e;
	}
	AUTOFREE char *file = lw_asprintf("%s/" DROPIN_NAME, d);
	FILE *f = fopen(file, "we");
	if (!f) {
		int e = errno;
		fprintf(stderr, "leakwatch-generator: %s: %s\n", file, strerror(e));
		return -e;
	}
	fprintf(f, "# Written by leakwatch-generator from %s at boot and at every\n"
		   "# daemon-reload: the agent may write in the roots it watches\n"
		   "# (quarantine and restore) and in its state directory.\n"
		   "[Service]\n",
		cfg->file);
	for (size_t i = 0; i < cfg->nroots; i++) {
		put_path(f, cfg->roots[i]);
	}
	put_path(f, cfg->state_dir);
	int r = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && r == 0) {
		r = -errno;
	}
	if (r < 0) {
		fprintf(stderr, "leakwatch-generator: %s: %s\n", file, strerror(-r));
	}
	return r;
}

int
main(int argc, char **argv)
{
	/* systemd passes three directories (normal, early, late); -c FILE before
	 * them names another configuration (tests, and an agent run with -c). */
	const char *config = LW_SYSCONFDIR "/leakwatch/agent.json";
	int a = 1;
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		config = argv[2];
		a = 3;
	}
	if (argc - a != 1 && argc - a != 3) {
		fprintf(stderr, "usage: leakwatch-generator [-c agent.json] NORMAL-DIR"
				" [EARLY-DIR LATE-DIR]\n");
		return 2;
	}
	struct agent_config *cfg = NULL;
	char err[1024];
	if (agent_config_load(config, false, &cfg, err, sizeof(err)) < 0) {
		/* a missing file is a machine with the package but no agent yet */
		fprintf(stderr, "leakwatch-generator: %s; the agent's unit keeps its"
				" read-only sandbox\n",
			err);
		return 0;
	}
	int r = write_dropin(argv[a], cfg);
	agent_config_free(cfg);
	return r < 0 ? 1 : 0;
}
