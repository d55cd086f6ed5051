/* fuzz-common.c — libFuzzer target for the parsers outside the extractors:
 * agent.json parsing and validation (common/config.c, agent-config.c),
 * globs, JSON/line escaping of file names, the strict JSON parser and
 * writer (round trip), file-type sniffing, the raw
 * marking scan of binary content, and the helper protocol's reader (what
 * a compromised helper could send the agent). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-config.h"
#include "clock.h"
#include "config.h"
#include "filetype.h"
#include "glob.h"
#include "ipc.h"
#include "json.h"
#include "marking.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the config parser and the agent's validation, through a file */
	int fd = memfd_create("agent.json", MFD_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, data, size) == (ssize_t)size) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			struct agent_config *cfg = NULL;
			char err[1024];
			if (agent_config_load(path, false, &cfg, err, sizeof(err)) == 0) {
				agent_config_free(cfg);
			}
		}
		close(fd);
	}
	/* globs: the input split at its first NUL into pattern and path */
	const uint8_t *nul = memchr(data, 0, size);
	if (nul) {
		size_t plen = (size_t)(nul - data);
		char *pattern = strndup((const char *)data, plen);
		if (pattern) {
			lw_glob_match(pattern, (const char *)nul + 1, size - plen - 1);
			free(pattern);
		}
	}
	struct wire_buf b = {0};
	wire_buf_json_string(&b, (const char *)data, size);
	wire_buf_fini(&b);
	/* strict JSON (common/json.c): what it accepts, written and parsed
	 * again, is accepted and written the same; nothing it accepts holds
	 * a number that is not finite */
	for (unsigned flags = 0; flags <= LW_JSON_BYTES; flags += LW_JSON_BYTES) {
		cJSON *v = NULL;
		struct lw_json_error je;
		if (lw_json_parse((const char *)data, size, flags, &v, &je) == 0) {
			char *once = lw_json_print(v);
			cJSON *w = NULL;
			if (lw_json_parse(once, strlen(once), LW_JSON_BYTES, &w, &je) < 0) {
				fprintf(stderr, "json: written form does not parse: %s (%s)\n", once,
					je.msg);
				abort();
			}
			char *twice = lw_json_print(w);
			if (strcmp(once, twice) != 0) {
				fprintf(stderr, "json: not stable: %s / %s\n", once, twice);
				abort();
			}
			free(once);
			free(twice);
			cJSON_Delete(w);
		}
		cJSON_Delete(v);
	}
	free(wire_escape_line((const char *)data, size));
	if (size) {
		filetype_sniff(data, size, size, "x.bin");
	}
	struct marking_raw_state rs = {0};
	struct marking_result mr = {0};
	size_t half = size / 2;
	marking_scan_raw(&rs, data, half, &mr);
	marking_scan_raw(&rs, data + half, size - half, &mr);

	/* the input as a byte stream from the helper: messages are taken
	 * until the stream ends or breaks the protocol */
	int sv[2];
	if (size <= 65536 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		int big = 1 << 20;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		if (size == 0 || write(sv[0], data, size) == (ssize_t)size) {
			close(sv[0]);
			struct ipc_reader rd = {0};
			for (;;) {
				uint32_t type;
				char *payload = NULL;
				size_t len;
				int passed = -1;
				int r = ipc_reader_recv(sv[1], &rd, clock_mono_ns() + 1000000000, &type,
							&payload, &len, &passed);
				free(payload);
				if (r < 0) {
					break;
				}
			}
			ipc_reader_reset(&rd);
		} else {
			close(sv[0]);
		}
		close(sv[1]);
	}
	return 0;
}
