/* fuzz-collector.c — libFuzzer target for what the collector parses from
 * the network and from its configuration: a POST /v1/events body down to
 * each event (collector/chain.c), "since" values (collector/rfc3339.c) and
 * collector.json (collector/collector-config.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"
#include "render.h"
#include "cevent.h"
#include "collector-config.h"
#include "rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a batch, as handlers_events() reads it */
	cJSON *root = NULL;
	struct lw_json_error je;
	if (lw_json_parse((const char *)data, size, 0, &root, &je) < 0) {
		root = NULL;
	}
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		struct cevent ev;
		char err[256];
		if (cevent_parse(it, &ev, err, sizeof(err)) == 0) {
			char hex[LW_SHA256_HEX_LEN + 1];
			cevent_hash(&ev, hex);
			struct cevent_facts f = {.last_seq = 3, .have_prev = true};
			struct cevent_alert al[3];
			int n = 0;
			cevent_verify(&ev, hex, &f, al, &n);
			cevent_fini(&ev);
		}
	}
	cJSON_Delete(root);
	/* the input as a stored body (rows from before the checks included):
	 * whatever it is, the answer row must be strict JSON with the
	 * collector's own keys once each (issue 11: a forged body made
	 * /v1/violations invalid) */
	struct cstore_event_row row = {.agent = "a", .seq = 1, .received = "r",
				       .body = (const char *)data, .body_len = size};
	struct wire_buf out = {0};
	render_event(&out, &row);
	cJSON *back = NULL;
	if (lw_json_parse(out.data, out.len, LW_JSON_BYTES, &back, &je) < 0 ||
	    !cJSON_IsObject(back) ||
	    strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(back, "agent")),
		   "a") != 0) {
		fprintf(stderr, "render_event gave a bad row: %s\n", out.data);
		abort();
	}
	cJSON_Delete(back);
	wire_buf_fini(&out);
	/* a since value: the input up to its first NUL */
	size_t n = size > 64 ? 64 : size;
	char *s = malloc(n + 1);
	if (s) {
		/* memcpy, not strndup: the input is not a C string */
		memcpy(s, data, n);
		s[n] = '\0';
		char buf[RFC3339_LEN];
		rfc3339_parse_since(s, buf);
		free(s);
	}
	/* collector.json, through a file */
	int fd = memfd_create("collector.json", MFD_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, data, size) == (ssize_t)size) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			struct collector_config *cfg = NULL;
			char err[1024];
			if (collector_config_load(path, &cfg, err, sizeof(err)) == 0) {
				collector_config_free(cfg);
			}
		}
		close(fd);
	}
	return 0;
}
