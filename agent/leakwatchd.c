/* leakwatchd.c — the agent daemon: start-up, the main loop, shutdown.
 *
 * Main thread: owns the epoll loop (signals through signalfd, a 1 s timer
 * for status and rescans). Start-up is a ladder that undoes in reverse what
 * succeeded; SIGTERM/SIGINT stop the watcher, let the workers drain the
 * queue and the writer commit, then exit 0. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lw-paths.h" /* LW_SYSCONFDIR: the configured installation */
#include "agent-config.h"
#include "chain.h"
#include "clock.h"
#include "fpstore.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "queue.h"
#include "reporter.h"
#include "status.h"
#include "store.h"
#include "watch-backend.h"
#include "enforce.h"
#include "watcher.h"
#include "wire.h"
#include "worker.h"
#include "writer.h"

#define WRITER_BACKLOG 8192

static void
usage(FILE *f)
{
	fprintf(f, "usage: leakwatchd [-c agent.json] [--check-config] [-v] [-V] [-h]\n"
		   "  -c, --config FILE   configuration (default " LW_SYSCONFDIR "/leakwatch/agent.json)\n"
		   "  --check-config      validate the configuration and exit\n"
		   "  -v, --verbose       log at debug level\n"
		   "  -V, --version       print the version and exit\n"
		   "  -h, --help          this help\n");
}

/* The policy's load history, owned by the main thread. */
struct policy_state {
	long long loaded_ns, tried_ns;
	char *detectors; /* the detectors the classify helpers run */
	char sha256[LW_SHA256_HEX_LEN + 1]; /* policy_digest() of the one in force */
	char error[1024]; /* empty: the last load worked */
	/* block rules (enforce.h): on while the policy has some and nobody
	 * switched them off (`leakwatch enforce off`: the flag file) */
	struct enforcer *enf;
	bool blocks;            /* the policy in force has block rules */
	int enforce_err;        /* activation failed (-errno): not retried until a reload */
	char *enforce_off;      /* state_dir/enforce.off */
};

/* What enforcement is doing, for status. */
static const char *
enforce_state(const struct policy_state *ps)
{
	if (!ps->blocks) {
		return "no block rules";
	}
	if (access(ps->enforce_off, F_OK) == 0) {
		return "switched off";
	}
	return ps->enforce_err ? "unavailable" : "on";
}

/* Brings enforcement in line with the policy and the kill switch; called
 * at start, after a reload and every second (so `leakwatch enforce off`
 * works within a second even if the agent missed its signal). */
static void
apply_enforcement(struct writer *wr, struct policy_state *ps)
{
	bool off = access(ps->enforce_off, F_OK) == 0;
	bool want = ps->blocks && !off && !ps->enforce_err;
	bool on = enforcer_active(ps->enf);
	if (want && !on) {
		int r = enforcer_activate(ps->enf);
		if (r < 0) {
			ps->enforce_err = r;
			log_err("enforce: cannot enforce block rules: %s%s; opens are not"
				" blocked",
				strerror(-r), r == -EPERM ? " (it needs CAP_SYS_ADMIN)" : "");
			return;
		}
		writer_enforcer(wr, ps->enf); /* marks every protected file */
	} else if (!want && on) {
		if (off) {
			log_warn("enforce: switched off (%s exists): block rules are not"
				 " enforced",
				 ps->enforce_off);
		}
		enforcer_deactivate(ps->enf);
	}
}

/* The reporter thread of the enforcer: a denial becomes a violation. */
static void
report_denial(void *wr, struct enforce_denial *d)
{
	writer_blocked(wr, d->path, strlen(d->path), d->rule, d->process);
}

static void
note_policy_digest(struct policy_state *ps, const struct policy *p)
{
	uint8_t d[LW_SHA256_LEN];
	policy_digest(p, d);
	lw_hex(d, sizeof(d), ps->sha256);
}

/* What the main loop hands the reporter for heartbeats, and notices. */
struct report_state {
	struct reporter *rep; /* NULL: no collector configured */
	long long scans_seen;
	int64_t last_scan_ns;
	int64_t violations_seen;
};

static void
publish_status(const struct agent_config *cfg, struct watcher *wt, struct wq *q,
	       struct writer *wr, const struct policy_state *ps, struct report_state *rs,
	       int64_t started, bool stopping)
{
	struct watcher_stats ws;
	watcher_get_stats(wt, &ws);
	long long pending = (long long)wq_depth(q) + (long long)writer_backlog(wr);
	struct enforce_stats es = {0};
	if (ps->enf) {
		enforcer_stats(ps->enf, &es);
	}
	struct status_policy sp = {.file = cfg->policy, .loaded_ns = ps->loaded_ns,
				   .tried_ns = ps->tried_ns,
				   .error = ps->error[0] ? ps->error : NULL,
				   .violations = writer_violations(wr),
				   .enforce = ps->enf ? &es : NULL,
				   .enforce_state = enforce_state(ps)};
	struct reporter_stats rst;
	if (rs->rep) {
		reporter_get_stats(rs->rep, &rst);
		if ((long long)ws.full_scans_done != rs->scans_seen) {
			rs->scans_seen = (long long)ws.full_scans_done;
			rs->last_scan_ns = clock_wall_ns();
		}
		/* the heartbeat's view of this agent */
		cJSON *hb = cJSON_CreateObject();
		double total = (double)(ws.watches + ws.unwatched);
		cJSON_AddNumberToObject(hb, WIRE_KEY_COVERAGE,
					total > 0 ? (double)ws.watches / total : 1.0);
		cJSON_AddNumberToObject(hb, WIRE_KEY_QUEUE_DEPTH, (double)pending);
		/* what the collector turns into the compliance report's notes:
		 * restarts, policy changes, overflows and the rescans they
		 * cause, directories left without a watch */
		char t0[CHAIN_TIME_LEN + 1];
		chain_time(started, t0);
		cJSON_AddStringToObject(hb, WIRE_KEY_STARTED, t0);
		cJSON_AddStringToObject(hb, WIRE_KEY_POLICY_SHA256, ps->sha256);
		cJSON_AddNumberToObject(hb, WIRE_KEY_OVERFLOWS, (double)ws.overflows);
		/* the start-up scan is not a rescan */
		cJSON_AddNumberToObject(hb, WIRE_KEY_RESCANS,
					ws.full_scans_done > 1 ? (double)(ws.full_scans_done - 1) : 0);
		cJSON_AddNumberToObject(hb, WIRE_KEY_UNWATCHED_DIRS, (double)ws.unwatched);
		int64_t files = 0, unx[STORE_UNEXAMINED_KINDS];
		if (writer_inventory(wr, &files, unx)) {
			cJSON_AddNumberToObject(hb, WIRE_KEY_INVENTORY_FILES, (double)files);
			cJSON *u = cJSON_AddObjectToObject(hb, WIRE_KEY_UNEXAMINED);
			static const char *const kinds[] = {WIRE_UNEXAMINED_KINDS};
			for (int i = 0; i < STORE_UNEXAMINED_KINDS; i++) {
				cJSON_AddNumberToObject(u, kinds[i], (double)unx[i]);
			}
		}
		if (rs->last_scan_ns) {
			char t[CHAIN_TIME_LEN + 1];
			chain_time(rs->last_scan_ns, t);
			cJSON_AddStringToObject(hb, WIRE_KEY_LAST_SCAN, t);
		}
		char *text = cJSON_PrintUnformatted(hb);
		reporter_set_heartbeat(rs->rep, text);
		cJSON_free(text);
		cJSON_Delete(hb);
		if (sp.violations != rs->violations_seen) {
			rs->violations_seen = sp.violations;
			reporter_kick(rs->rep); /* news: do not wait for the poll */
		}
	}
	writer_status(wr, getpid(),
		      status_build(cfg, &ws, &sp, rs->rep ? &rst : NULL, pending, started, stopping));
}

/* Loads the configured policy (or the built-in one). On failure the
 * message names the file and the place, and nothing changes. */
static int
load_policy(const struct agent_config *cfg, struct policy **out, char *err, size_t errlen)
{
	if (!cfg->policy) {
		*out = policy_default();
		return 0;
	}
	struct cfg_ctx ctx = {.file = cfg->policy};
	int r = policy_load(cfg->policy, &ctx, out);
	if (r < 0) {
		snprintf(err, errlen, "%s", ctx.err[0] ? ctx.err : strerror(-r));
	}
	return r;
}

/* Hands a policy to the writer, which judges every file under it. */
static void
submit_policy(const struct agent_config *cfg, struct writer *wr, struct policy *p)
{
	/* sightings exist for the fleet's trace: only with a collector */
	writer_policy(wr, p, cfg->quarantine_dir, cfg->collector_url ? cfg->outbox_max : 0,
		      cfg->collector_url != NULL);
}

/* SIGHUP or `leakwatch reload`: a policy that does not validate leaves the
 * one in force working, and says why (log and status). */
static void
reload_policy(const struct agent_config *cfg, struct writer *wr, struct worker_pool *pool,
	      struct watcher *wt, struct policy_state *ps)
{
	struct policy *p = NULL;
	ps->tried_ns = clock_wall_ns();
	if (load_policy(cfg, &p, ps->error, sizeof(ps->error)) < 0) {
		log_err("policy: reload refused, keeping the policy in force: %s", ps->error);
		return;
	}
	ps->error[0] = '\0';
	ps->loaded_ns = ps->tried_ns;
	note_policy_digest(ps, p);
	if (strcmp(policy_detectors_json(p), ps->detectors) != 0) {
		/* Stored findings depend on the detectors: the helpers restart
		 * with the new ones and a full walk classifies every file
		 * again (without hashing it again). */
		log_info("policy: the custom detectors changed; classifying the inventory"
			 " again");
		free(ps->detectors);
		ps->detectors = lw_strdup(policy_detectors_json(p));
		if (cfg->classify) {
			worker_pool_set_detectors(pool, ps->detectors);
			watcher_request_full_scan(wt);
		}
	}
	log_info("policy: reloaded %s (%zu rules)", cfg->policy ? cfg->policy : "(built-in)",
		 policy_rule_count(p));
	ps->blocks = policy_has_block_rules(p);
	ps->enforce_err = 0; /* a reload retries what failed */
	submit_policy(cfg, wr, p);
	apply_enforcement(wr, ps);
}

/* Registered documents changed (leakwatch fingerprint add/remove): every
 * file is classified again, without re-hashing, by a full rescan. */
static void
check_fingerprints(const struct agent_config *cfg, struct watcher *wt,
		   struct worker_pool *pool, int64_t *gen)
{
	struct store *rd = NULL;
	char err[256];
	if (store_open(cfg->db_path, DB_MODE_READER, &rd, err, sizeof(err)) < 0) {
		return;
	}
	int64_t now = fpstore_generation(store_db(rd));
	store_close(rd);
	if (now != *gen) {
		log_info("main: registered documents changed (generation %lld); classifying"
			 " the inventory again",
			 (long long)now);
		*gen = now;
		worker_pool_set_fp_gen(pool, now);
		watcher_request_full_scan(wt);
	}
}

static int
run_loop(const struct agent_config *cfg, struct watcher *wt, struct wq *q,
	 struct writer *wr, struct worker_pool *pool, struct policy_state *ps,
	 struct report_state *rs, int64_t started, int64_t fp_gen)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	AUTOCLOSE int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	AUTOCLOSE int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	AUTOCLOSE int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0) {
		log_err("main: cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	timerfd_settime(tfd, 0, &its, NULL);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd};
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	long long ticks = 0;
	for (;;) {
		struct epoll_event got[4];
		int n = epoll_wait(ep, got, 4, -1);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (got[i].data.fd == sfd) {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
					continue;
				}
				if (si.ssi_signo == SIGHUP) {
					log_info("main: SIGHUP: reloading the policy (other"
						 " configuration changes take effect on restart)");
					reload_policy(cfg, wr, pool, wt, ps);
					publish_status(cfg, wt, q, wr, ps, rs, started, false);
					continue;
				}
				log_info("main: %s: draining and stopping",
					 strsignal((int)si.ssi_signo));
				return 0;
			}
			uint64_t expirations;
			if (read(tfd, &expirations, sizeof(expirations)) < 0) {
				continue;
			}
			ticks++;
			apply_enforcement(wr, ps);
			publish_status(cfg, wt, q, wr, ps, rs, started, false);
			struct watcher_stats ws;
			watcher_get_stats(wt, &ws);
			if (ws.full_scans_done > 0) {
				/* the inventory has rows now: worth consulting */
				worker_pool_enable_lookups(pool);
			}
			if ((ws.unwatched > 0 || ws.roots_missing > 0) &&
			    ticks % cfg->degraded_rescan_interval == 0) {
				watcher_request_degraded_scan(wt);
			}
			if (cfg->classify && ticks % 2 == 0) {
				check_fingerprints(cfg, wt, pool, &fp_gen);
			}
			if (cfg->rescan_interval > 0 && ticks % cfg->rescan_interval == 0) {
				watcher_request_full_scan(wt);
			}
		}
	}
}

/* The writer's way to have the inventory put right after it dropped an
 * operation (writer.h). */
static void
rescan_all(void *watcher)
{
	watcher_request_full_scan(watcher);
}

/* The state directory holds the inventory, the outbox and the quarantine:
 * one writable by others lets them replace the database, one owned by
 * someone else lets its owner do anything with it. The first is
 * tightened, the second refused. */
static int
secure_state_dir(const struct agent_config *cfg, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(cfg->state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: /state_dir: %s: not a directory", cfg->file,
			 cfg->state_dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s: /state_dir: %s is owned by uid %u, not by the agent's user (uid"
			 " %u): its owner could read or replace the inventory; chown it or name"
			 " another",
			 cfg->file, cfg->state_dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		if (chmod(cfg->state_dir, 0700) < 0) {
			snprintf(err, errlen, "%s: /state_dir: %s has mode %04o and cannot be"
				 " tightened: %s", cfg->file, cfg->state_dir,
				 (unsigned)(st.st_mode & 07777), strerror(errno));
			return -errno;
		}
		log_warn("main: %s had mode %04o; tightened to 0700", cfg->state_dir,
			 (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* Parses the command line into @config, @check_only and @verbose. Returns
 * -1 to go on, or the exit status (0 after --version or --help). */
static int
parse_args(int argc, char **argv, const char **config, bool *check_only, bool *verbose)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:vVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'C':
			*check_only = true;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'V':
			printf("leakwatchd %s\n", LW_VERSION);
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
	return -1;
}

/* The configuration, its state directory made private and the policy:
 * everything that can be wrong with the files before anything starts.
 * Prints the one precise message and returns -1 on a problem. */
static int
load_setup(const char *config, struct agent_config **cfg, struct policy **policy)
{
	char err[1024];
	if (agent_config_load(config, true, cfg, err, sizeof(err)) < 0 ||
	    secure_state_dir(*cfg, err, sizeof(err)) < 0 ||
	    load_policy(*cfg, policy, err, sizeof(err)) < 0) {
		fprintf(stderr, "leakwatchd: %s\n", err);
		agent_config_free(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

/* Signals are handled by the loop's signalfd; they are blocked before any
 * thread starts so that every thread inherits the mask. */
static void
block_signals(void)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
}

/* The running agent's parts, owned by the main thread. A part not (yet)
 * started is NULL, so daemon_stop() can undo any prefix of daemon_start(). */
struct daemon {
	const struct agent_config *cfg;
	const struct watch_backend *be; /* set while initialised and not handed over */
	void *bectx;
	struct store *st;               /* until the writer takes it */
	struct writer *wr;
	struct wq *q;
	struct worker_pool *pool;
	struct watcher *wt;
	struct worker_classify cls;
	struct policy_state ps;
	struct report_state rs;
	int64_t started;
};

/* Starts the parts in dependency order: backend, store, writer, reporter,
 * the policy, queue, workers, watcher. Takes @policy. Returns 0 or -errno
 * (logged); on failure what was started is left for daemon_stop(). */
static int
daemon_start(struct daemon *d, struct policy *policy)
{
	const struct agent_config *cfg = d->cfg;
	char err[1024];
	int r;
	/* First, while our fd numbers are low: libinotifytools select()s on
	 * its fd and aborts for fds >= FD_SETSIZE. */
	if ((r = watch_backend_open(cfg->backend,
				      cfg->process_attribution ? WATCH_PIDS : 0, &d->be,
				      &d->bectx)) < 0) {
		policy_free(policy);
		return r;
	}
	if ((r = store_open(cfg->db_path, DB_MODE_WRITER, &d->st, err, sizeof(err))) < 0) {
		log_err("main: %s", err);
		policy_free(policy);
		return r;
	}
	int64_t epoch = 0;
	store_meta_get(d->st, "epoch", &epoch);
	bool empty = store_is_empty(d->st) == 1;
	d->cls = (struct worker_classify){
		.enabled = cfg->classify,
		.helper = {.db_path = cfg->db_path, .lim = cfg->classify_limits},
		.fp_gen = fpstore_generation(store_db(d->st)),
	};
	d->ps.detectors = lw_strdup(policy_detectors_json(policy));
	note_policy_digest(&d->ps, policy);
	d->cls.helper.detectors_json = d->ps.detectors;
	if ((r = writer_start(d->st, WRITER_BACKLOG, epoch, &d->wr)) < 0) {
		log_err("main: cannot start the writer: %s", strerror(-r));
		policy_free(policy);
		return r;
	}
	d->st = NULL; /* the writer's now */
	if (cfg->collector_url) {
		struct reporter_opts ro = {
			.url = cfg->collector_url, .ca = cfg->collector_ca,
			.cert = cfg->collector_cert, .key = cfg->collector_key,
			.crl = cfg->collector_crl, .db_path = cfg->db_path,
			.heartbeat_s = cfg->heartbeat_s, .batch_max = cfg->batch_max};
		if ((r = reporter_start(&ro, d->wr, &d->rs.rep, err, sizeof(err))) < 0) {
			log_err("main: collector: %s", err);
			policy_free(policy);
			return r;
		}
		log_info("main: reporting to %s", cfg->collector_url);
	}
	/* before the watcher: every file the walk records is judged */
	d->ps.loaded_ns = d->ps.tried_ns = clock_wall_ns();
	d->ps.blocks = policy_has_block_rules(policy);
	d->ps.enforce_off = lw_asprintf("%s/enforce.off", cfg->state_dir);
	d->ps.enf = enforcer_new((unsigned)cfg->enforce_deadline_ms, report_denial, d->wr);
	submit_policy(cfg, d->wr, policy);
	apply_enforcement(d->wr, &d->ps);
	d->q = wq_new((size_t)cfg->queue_size);
	if ((r = worker_pool_start(cfg->workers, cfg->db_path, empty, &d->cls, d->q, d->wr,
				   &d->pool)) < 0) {
		log_err("main: cannot start the workers: %s", strerror(-r));
		return r;
	}
	if ((r = watcher_start(cfg, d->be, d->bectx, d->q, d->wr, epoch, &d->wt)) < 0) {
		log_err("main: cannot start the watcher: %s", strerror(-r));
		return r;
	}
	writer_set_rescan(d->wr, rescan_all, d->wt);
	log_info("main: leakwatchd %s watching %zu root(s) with %d worker(s); state in %s",
		 LW_VERSION, cfg->nroots, cfg->workers, cfg->state_dir);
	return 0;
}

/* Stops what daemon_start() started, in reverse. After a run, the last
 * status ("not running", with the final figures) is written before the
 * writer goes; what the collector has not acknowledged stays in the
 * outbox. */
static void
daemon_stop(struct daemon *d)
{
	struct watcher_stats ws;
	bool ran = d->wt != NULL;
	if (ran) {
		watcher_get_stats(d->wt, &ws);
		writer_set_rescan(d->wr, NULL, NULL);
		watcher_stop(d->wt);
		d->be = NULL; /* finalised by watcher_stop() */
	}
	if (d->pool) {
		wq_close(d->q);
		worker_pool_join(d->pool);
	}
	if (ran) {
		struct status_policy sp = {.file = d->cfg->policy, .loaded_ns = d->ps.loaded_ns,
					   .tried_ns = d->ps.tried_ns,
					   .error = d->ps.error[0] ? d->ps.error : NULL,
					   .violations = writer_violations(d->wr)};
		struct reporter_stats rst;
		if (d->rs.rep) {
			reporter_get_stats(d->rs.rep, &rst);
		}
		writer_status(d->wr, getpid(),
			      status_build(d->cfg, &ws, &sp, d->rs.rep ? &rst : NULL, 0, d->started,
					   true));
	}
	wq_free(d->q);
	reporter_stop(d->rs.rep);
	if (d->ps.enf) {
		/* first: its reporter may wait on the writer */
		enforcer_deactivate(d->ps.enf);
	}
	writer_stop(d->wr);
	enforcer_free(d->ps.enf);
	free(d->ps.enforce_off);
	store_close(d->st);
	if (d->be) {
		d->be->fini(d->bectx);
	}
	free(d->ps.detectors);
}

int
main(int argc, char **argv)
{
	log_init("leakwatchd");
	const char *config = LW_SYSCONFDIR "/leakwatch/agent.json";
	bool check_only = false, verbose = false;
	int r = parse_args(argc, argv, &config, &check_only, &verbose);
	if (r >= 0) {
		return r;
	}
	/* Everything the agent creates (the database and its WAL, the
	 * quarantine) is its own alone; modes it means to give, it sets. */
	umask(077);
	struct agent_config *cfg = NULL;
	struct policy *policy = NULL;
	if (load_setup(config, &cfg, &policy) < 0) {
		return 2;
	}
	if (check_only) {
		/* what it will do, on one line: the package's postinst starts
		 * the agent only when a collector is named (debian/) */
		AUTOFREE char *url = cfg->collector_url
					     ? wire_escape_line(cfg->collector_url,
								strlen(cfg->collector_url))
					     : NULL;
		printf("%s: ok (%zu watched root%s; %s%s)\n", config, cfg->nroots,
		       cfg->nroots == 1 ? "" : "s",
		       url ? "collector " : "no collector: events stay on this machine",
		       url ? url : "");
		policy_free(policy);
		agent_config_free(cfg);
		return 0;
	}
	log_set_level(verbose ? LOG_LEVEL_DEBUG : cfg->log_level);
	block_signals();
	struct daemon d = {.cfg = cfg, .started = clock_wall_ns()};
	r = daemon_start(&d, policy);
	if (r >= 0) {
		r = run_loop(cfg, d.wt, d.q, d.wr, d.pool, &d.ps, &d.rs, d.started, d.cls.fp_gen);
	}
	daemon_stop(&d);
	agent_config_free(cfg);
	return r < 0 ? 1 : 0;
}
