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

#include "verify.h"
#include "collector-config.h"
#include "rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a batch, as handle_events() reads it */
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		struct chain_event ev;
		char err[256];
		if (chain_event_parse(it, &ev, err, sizeof(err)) == 0) {
			char hex[LW_SHA256_HEX_LEN + 1];
			chain_event_hash(&ev, hex);
			struct chain_facts f = {.last_seq = 3, .have_prev = true};
			struct chain_alert al[3];
			int n = 0;
			chain_verify(&ev, hex, &f, al, &n);
			chain_event_fini(&ev);
		}
	}
	cJSON_Delete(root);
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
