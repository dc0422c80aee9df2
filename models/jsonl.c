/* jsonl.c: the JSON-lines reader of the LAMBADA files: the "text" string of the one object
 * on a line, decoded to UTF-8, by a small recursive-descent parser (RFC 8259 grammar,
 * depth-limited) that checks the other members and skips them. It deliberately builds no
 * document tree, validates no UTF-8 (bytes pass through) and knows nothing of LAMBADA
 * (lambada.c splits the passage). */
#include <string.h>

#include "jsonl.h"

typedef struct {
    const char *start, *p, *end;
    int line;
    hekv_err *err;
} json_parser;

static hekv_status fail(const json_parser *j, const char *what) {
    const size_t col = (size_t)(j->p - j->start) + 1;
    if (j->line > 0)
        return hekv_err_set(j->err, HEKV_ERR_FORMAT, "line %d, column %zu: %s", j->line, col,
                            what);
    return hekv_err_set(j->err, HEKV_ERR_FORMAT, "column %zu: %s", col, what);
}

static void skip_ws(json_parser *j) {
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = p[i];
        const int d = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

/* Appends b to out[0..cap) at *n (counting past cap without writing). */
static void put(char *out, size_t cap, size_t *n, unsigned char b) {
    if (out && *n < cap) out[*n] = (char)b;
    (*n)++;
}

static void put_utf8(char *out, size_t cap, size_t *n, unsigned cp) {
    if (cp < 0x80) {
        put(out, cap, n, (unsigned char)cp);
    } else if (cp < 0x800) {
        put(out, cap, n, (unsigned char)(0xC0 | (cp >> 6)));
        put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put(out, cap, n, (unsigned char)(0xE0 | (cp >> 12)));
        put(out, cap, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3F)));
    } else {
        put(out, cap, n, (unsigned char)(0xF0 | (cp >> 18)));
        put(out, cap, n, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
        put(out, cap, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, n, (unsigned char)(0x80 | (cp & 0x3F)));
    }
}

/* A string at j->p (a '"'), decoded into out[0..cap) (out may be NULL); *n gets the full
 * decoded length. The decoded form is never longer than the source (\uXXXX is 6 bytes,
 * its UTF-8 at most 3; a pair is 12 bytes for 4). */
static hekv_status string(json_parser *j, char *out, size_t cap, size_t *n) {
    *n = 0;
    if (j->p >= j->end || *j->p != '"') return fail(j, "expected a string");
    const char *open = j->p++;
    while (j->p < j->end && *j->p != '"') {
        const unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) return fail(j, "a raw control character inside a string (escape it)");
        if (c != '\\') {
            put(out, cap, n, c);
            j->p++;
            continue;
        }
        if (j->end - j->p < 2) { /* a backslash at the end */
            j->p = open;
            return fail(j, "an unterminated string");
        }
        const char e = j->p[1];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit) {
            put(out, cap, n, (unsigned char)to[hit - from]);
            j->p += 2;
            continue;
        }
        if (e != 'u') return fail(j, "an unknown escape (\\\", \\\\, \\/, \\b, \\f, \\n, \\r, "
                                     "\\t or \\uXXXX)");
        unsigned cp, lo;
        if (j->end - j->p < 6 || !hex4(j->p + 2, &cp))
            return fail(j, "\\u needs four hexadecimal digits");
        if (cp >= 0xDC00 && cp < 0xE000)
            return fail(j, "an unpaired low surrogate \\uDC00..\\uDFFF");
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' ||
                !hex4(j->p + 8, &lo) || lo < 0xDC00 || lo >= 0xE000)
                return fail(j, "a high surrogate \\uD800..\\uDBFF not followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            j->p += 6;
        }
        put_utf8(out, cap, n, cp);
        j->p += 6;
    }
    if (j->p >= j->end) {
        j->p = open;
        return fail(j, "an unterminated string");
    }
    j->p++; /* the closing quote */
    return HEKV_OK;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static hekv_status number(json_parser *j) {
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p < j->end && *j->p == '0') {
        j->p++;
    } else if (j->p < j->end && is_digit(*j->p)) {
        while (j->p < j->end && is_digit(*j->p)) j->p++;
    } else {
        return fail(j, "expected a value (string, number, object, array, true, false, null)");
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || !is_digit(*j->p)) return fail(j, "a number needs digits after '.'");
        while (j->p < j->end && is_digit(*j->p)) j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
        if (j->p >= j->end || !is_digit(*j->p)) return fail(j, "a number needs exponent digits");
        while (j->p < j->end && is_digit(*j->p)) j->p++;
    }
    return HEKV_OK;
}

static hekv_status value(json_parser *j, int depth);

/* An object or array at j->p ('{' or '['), checked and skipped. */
static hekv_status container(json_parser *j, int depth) {
    const char close = *j->p == '{' ? '}' : ']';
    const int object = close == '}';
    if (depth >= HEKV_JSON_MAX_DEPTH) return fail(j, "values nested too deeply");
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return HEKV_OK;
    }
    for (;;) {
        hekv_status st;
        size_t n;
        if (object) {
            if ((st = string(j, NULL, 0, &n)) != HEKV_OK) return st;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':') return fail(j, "expected ':' after a key");
            j->p++;
            skip_ws(j);
        }
        if ((st = value(j, depth + 1)) != HEKV_OK) return st;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            skip_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return HEKV_OK;
        }
        return fail(j, object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an "
                                                                     "array");
    }
}

static hekv_status value(json_parser *j, int depth) {
    if (j->p >= j->end) return fail(j, "expected a value, found the end of the line");
    size_t n;
    switch (*j->p) {
    case '"': return string(j, NULL, 0, &n);
    case '{':
    case '[': return container(j, depth);
    default: break;
    }
    static const char *const lit[3] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        const size_t l = strlen(lit[i]);
        if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, lit[i], l)) {
            j->p += l;
            return HEKV_OK;
        }
    }
    return number(j);
}

hekv_status hekv_llama_json_text(const char *line, size_t len, int line_no, char *out,
                                 size_t *out_len, hekv_err *err) {
    if ((!line && len) || !out || !out_len)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_llama_json_text: NULL argument");
    *out_len = 0;
    json_parser j = {line, line, line + len, line_no, err};
    hekv_status st;
    int found = 0;
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{') return fail(&j, "not a JSON object (expected '{')");
    j.p++;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
    } else {
        for (;;) {
            char key[5];
            size_t kn, n;
            if ((st = string(&j, key, sizeof key, &kn)) != HEKV_OK) return st;
            const int is_text = kn == 4 && !memcmp(key, "text", 4);
            skip_ws(&j);
            if (j.p >= j.end || *j.p != ':') return fail(&j, "expected ':' after a key");
            j.p++;
            skip_ws(&j);
            if (is_text) {
                if (j.p >= j.end || *j.p != '"')
                    return fail(&j, "the \"text\" member is not a string");
                if ((st = string(&j, out, len, &n)) != HEKV_OK) return st;
                *out_len = n; /* n <= len: decoding never grows */
                found = 1;
            } else if ((st = value(&j, 1)) != HEKV_OK) {
                return st;
            }
            skip_ws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                skip_ws(&j);
                continue;
            }
            if (j.p < j.end && *j.p == '}') {
                j.p++;
                break;
            }
            return fail(&j, "expected ',' or '}' in an object");
        }
    }
    skip_ws(&j);
    if (j.p != j.end) return fail(&j, "bytes after the object (one object per line)");
    if (!found) {
        j.p = line;
        return fail(&j, "the object has no \"text\" member");
    }
    return HEKV_OK;
}
