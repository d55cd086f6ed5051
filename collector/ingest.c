/* ingest.c — agent batches stored off the event loop (see ingest.h). */
#include "ingest.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "rfc3339.h"

struct worker {
	struct ingest *in;
	struct cstore *store;
	pthread_t thread;
	bool running;
};

struct ingest {
	struct event_base *base;
	ingest_done_fn done;
	void *done_arg;
	int silent_after_s;
	int wake_fd;       /* eventfd: a job is done */
	struct event *wake;
	struct worker *workers;
	int nworkers;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ingest_job *queue, *queue_tail, *finished;
	bool stop;
};

void
ingest_job_free(struct ingest_job *job)
{
	if (!job) {
		return;
	}
	for (size_t i = 0; i < job->n; i++) {
		cevent_fini(&job->evs[i]);
	}
	free(job->evs);
	cJSON_Delete(job->root);
	free(job);
}

static void
run_job(struct worker *w, struct ingest_job *job)
{
	if (job->kind == INGEST_HEARTBEAT) {
		char now[RFC3339_LEN];
		rfc3339_now(now);
		job->r = cstore_heartbeat(w->store, job->agent, &job->hb, now,
					  w->in->silent_after_s);
		return;
	}
	job->r = job->n ? cstore_ingest_contact(w->store, job->agent, job->evs, job->n,
						w->in->silent_after_s, &job->st)
			: 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct ingest *in = w->in;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL); /* signals are the loop's */
	pthread_mutex_lock(&in->mu);
	for (;;) {
		while (!in->queue && !in->stop) {
			pthread_cond_wait(&in->cv, &in->mu);
		}
		if (in->stop) {
			break;
		}
		struct ingest_job *job = in->queue;
		in->queue = job->next;
		if (!in->queue) {
			in->queue_tail = NULL;
		}
		pthread_mutex_unlock(&in->mu);
		run_job(w, job);
		pthread_mutex_lock(&in->mu);
		job->next = in->finished;
		in->finished = job;
		pthread_mutex_unlock(&in->mu);
		eventfd_write(in->wake_fd, 1);
		pthread_mutex_lock(&in->mu);
	}
	pthread_mutex_unlock(&in->mu);
	return NULL;
}

/* Event-loop thread: the finished jobs, oldest first, to the callback. */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *in = arg;
	eventfd_t v;
	eventfd_read(in->wake_fd, &v);
	pthread_mutex_lock(&in->mu);
	struct ingest_job *list = in->finished;
	in->finished = NULL;
	pthread_mutex_unlock(&in->mu);
	struct ingest_job *rev = NULL;
	while (list) {
		struct ingest_job *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct ingest_job *next = rev->next;
		rev->next = NULL;
		in->done(rev, in->done_arg);
		rev = next;
	}
}

int
ingest_new(struct event_base *base, const char *database, int workers, int silent_after_s,
	   ingest_done_fn done, void *arg, struct ingest **out, char *err, size_t errlen)
{
	struct ingest *in = lw_new(struct ingest, 1);
	in->base = base;
	in->done = done;
	in->done_arg = arg;
	in->silent_after_s = silent_after_s;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	in->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	in->wake = in->wake_fd >= 0 ? event_new(base, in->wake_fd, EV_READ | EV_PERSIST, on_wake,
						 in)
				     : NULL;
	int r = -ENOMEM;
	if (!in->wake || event_add(in->wake, NULL) < 0) {
		snprintf(err, errlen, "cannot set up the storage workers' wake-up: %s",
			 strerror(errno));
		goto fail;
	}
	in->workers = lw_new(struct worker, (size_t)workers);
	for (int i = 0; i < workers; i++) {
		struct worker *w = &in->workers[i];
		w->in = in;
		if ((r = cstore_open(database, &w->store, err, errlen)) < 0) {
			goto fail;
		}
		in->nworkers++;
		if ((r = -pthread_create(&w->thread, NULL, worker_main, w)) < 0) {
			snprintf(err, errlen, "cannot start a storage worker: %s", strerror(-r));
			goto fail;
		}
		w->running = true;
	}
	*out = in;
	return 0;
fail:
	ingest_free(in);
	return r;
}

void
ingest_submit(struct ingest *in, struct ingest_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&in->mu);
	if (in->queue_tail) {
		in->queue_tail->next = job;
	} else {
		in->queue = job;
	}
	in->queue_tail = job;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

static void
free_list(struct ingest_job *j)
{
	while (j) {
		struct ingest_job *next = j->next;
		ingest_job_free(j);
		j = next;
	}
}

void
ingest_free(struct ingest *in)
{
	if (!in) {
		return;
	}
	pthread_mutex_lock(&in->mu);
	in->stop = true;
	pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&in->mu);
	for (int i = 0; i < in->nworkers; i++) {
		if (in->workers[i].running) {
			pthread_join(in->workers[i].thread, NULL);
		}
		cstore_close(in->workers[i].store);
	}
	free(in->workers);
	free_list(in->queue);
	free_list(in->finished);
	if (in->wake) {
		event_free(in->wake);
	}
	if (in->wake_fd >= 0) {
		close(in->wake_fd);
	}
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	free(in);
}
