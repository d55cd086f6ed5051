/* report-sign.h — a report's digest and detached signature.
 *
 * Beside every report lies a signature file (FILE.sig, or report.sig in a
 * CSV directory): JSON holding a signed statement (as a string, so both
 * ends hash the same bytes): the report id, period, the SHA-256 of the
 * canonical JSON, the SHA-256 of each file written, and the chain heads the
 * report covers; then the signature over that string, the signer's public
 * key and its fingerprint. Without a key the statement is still written,
 * unsigned: it then shows only that the files are unchanged since they
 * were written next to it. */
#pragma once

#include <stdio.h>

#include <cjson/cJSON.h>

struct report_file {
	const char *name; /* as listed: the base name */
	const char *path; /* where it is now */
};

/* Writes @sig_path for @doc (its integrity.chains are copied into the
 * statement) whose canonical bytes hash to @canonical_sha256, covering
 * @files. @key_path: a PEM private key (RSA, EC or Ed25519; NULL:
 * unsigned). Returns 0 or -errno with @err (an unreadable key, a key
 * OpenSSL cannot sign with). */
int report_sign_write(const char *sig_path, const cJSON *doc, const char *canonical_sha256,
		      const struct report_file *files, size_t nfiles, const char *key_path,
		      char *err, size_t errlen);

/* Checks @path: a report file (its FILE.sig beside it), a .sig file, or a
 * CSV directory (its report.sig). Every listed file is hashed again, and a
 * signature checked with the embedded public key, which must be the one
 * in @trusted (a PEM public key or certificate) when that is given. Prints
 * what was checked, and what each chain head covers, to @out. Returns 0
 * when everything matches and the report is signed, 1 when it is unsigned
 * and the digests match (said on @out), 2 when something does not match
 * (said on @out), -errno when a file cannot be read (@err). */
int report_verify(const char *path, const char *trusted, FILE *out, char *err, size_t errlen);
