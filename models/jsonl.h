/* jsonl.h (internal to models/): the JSON-lines reader of the LAMBADA files (jsonl.c). */
#ifndef HEKV_MODELS_JSONL_H
#define HEKV_MODELS_JSONL_H

#include <stddef.h>

#include "hekv/base.h"

/* Nesting depth beyond which a value is refused (the parser recurses). */
#define HEKV_JSON_MAX_DEPTH 64

/* The string member "text" of the JSON object in line[0..len) (one line of a JSON-lines
 * file: whitespace around the object, nothing else), decoded into out, which must have
 * room for len bytes: escapes (\" \\ \/ \b \f \n \r \t) and \uXXXX, surrogate pairs
 * combined, as UTF-8; other bytes as they are. Other members are checked as JSON values
 * (strings, numbers, true, false, null, arrays, objects) and skipped. When "text" appears
 * more than once the last one counts (as Python's json).
 * @param line_no  the line's number for messages (<= 0: none)
 * @return HEKV_OK; HEKV_ERR_FORMAT "line N, column C: ..." (not an object, an
 *         unterminated or bad string, a bad escape or \u sequence, an unpaired surrogate,
 *         a raw control character, a bad number or literal, too deep, trailing bytes, no
 *         "text" member or one that is not a string); HEKV_ERR_ARG (NULL) */
HEKV_MUST_CHECK hekv_status hekv_llama_json_text(const char *line, size_t len, int line_no,
                                                 char *out, size_t *out_len, hekv_err *err);

#endif
