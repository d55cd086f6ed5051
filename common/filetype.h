/* filetype.h — what kind of content a file holds, from its first bytes.
 *
 * Decided from the head of the file the hashing pass has already read, so
 * it costs no I/O. libmagic was considered and not used: it costs ~100 µs a
 * file (the agent's budget is ~15 µs) and would parse attacker-controlled
 * bytes in the agent process; the classify helper does the deep parsing.
 * Pure function, any thread. */
#pragma once

#include <stddef.h>

/* Returns a static lower-case name: "empty", "text", "html", "xml", "eml",
 * "rtf", "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "zip", "gzip",
 * "bzip2", "xz", "zstd", "7z", "tar", "elf", "png", "jpeg", "gif",
 * "sqlite", "binary". @head is the first @len bytes of a file of @size
 * bytes; @name (may be NULL) breaks ties between equal signatures. */
const char *filetype_sniff(const unsigned char *head, size_t len,
			   unsigned long long size, const char *name)
	__attribute__((nonnull(1)));

/* How many leading bytes filetype_sniff() wants to see. */
#define FILETYPE_HEAD_BYTES 8192
