/* test_jsonl.c: the JSON-lines reader of the LAMBADA files (models/jsonl.c) and the LAMBADA
 * line parser on top of it (models/lambada.c): every escape, \uXXXX including surrogate
 * pairs to UTF-8, other members of any JSON type skipped, and each kind of malformed line
 * refused with HEKV_ERR_FORMAT naming the line and column; plain lines, blank lines and
 * lines without a last word. Needs no model. */
#include <criterion/criterion.h>
#include <string.h>

#include "hekv/llama.h"
#include "models/jsonl.h"

/* The decoded "text" of line (NUL-terminated copy in out, length returned). */
static size_t text_of(const char *line, char *out) {
    size_t n = 0;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_json_text(line, strlen(line), 7, out, &n, &err), HEKV_OK,
                 "'%s': %s", line, err.msg);
    cr_assert_leq(n, strlen(line));
    out[n] = '\0';
    return n;
}

static void expect_text(const char *line, const char *want, size_t want_len) {
    char out[512];
    size_t n = text_of(line, out);
    cr_assert_eq(n, want_len, "'%s': %zu bytes, want %zu", line, n, want_len);
    cr_assert(memcmp(out, want, n) == 0, "'%s' decoded to '%s', want '%s'", line, out, want);
}

static void expect_bad(const char *line, const char *needle) {
    char out[512];
    size_t n = 99;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_json_text(line, strlen(line), 12, out, &n, &err), HEKV_ERR_FORMAT,
                 "'%s' was accepted", line);
    cr_assert(strstr(err.msg, "line 12, column ") != NULL, "'%s': no line/column: %s", line,
              err.msg);
    cr_assert(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", line, err.msg,
              needle);
}

Test(models_jsonl, escapes_and_unicode) {
    expect_text("{\"text\": \"plain words\"}", "plain words", 11);
    expect_text("  {\"text\":\"a\\\"b\\\\c\\/d\"}  \r", "a\"b\\c/d", 7);
    expect_text("{\"text\": \"\\b\\f\\n\\r\\t\"}", "\b\f\n\r\t", 5);
    /* \u: 1, 2 and 3 UTF-8 bytes, hex in either case, and NUL */
    expect_text("{\"text\": \"\\u0041\\u00e9\\u00E9\\u20AC\"}", "A\xc3\xa9\xc3\xa9\xe2\x82\xac",
                8);
    expect_text("{\"text\": \"a\\u0000b\"}", "a\0b", 3);
    /* a surrogate pair is one code point, 4 UTF-8 bytes: U+1F600 */
    expect_text("{\"text\": \"\\ud83d\\ude00!\"}", "\xf0\x9f\x98\x80!", 5);
    expect_text("{\"text\": \"\\uDBFF\\uDFFF\"}", "\xf4\x8f\xbf\xbf", 4); /* U+10FFFF */
    /* raw UTF-8 passes through */
    expect_text("{\"text\": \"caf\xc3\xa9\"}", "caf\xc3\xa9", 5);
    expect_text("{\"text\": \"\"}", "", 0);
}

Test(models_jsonl, other_members_are_skipped) {
    expect_text("{\"id\": 12, \"text\": \"x y\"}", "x y", 3);
    expect_text("{\"a\": [1, -2.5e+3, 0.25, true, false, null, \"}\", {\"b\": [[]]}], "
                "\"text\": \"t\", \"c\": {}}",
                "t", 1);
    expect_text("{\"text\": \"first\", \"text\": \"last\"}", "last", 4); /* as Python's json */
    expect_text("{\"te\\u0078t\": \"escaped key\"}", "escaped key", 11);
    expect_text("{\"texts\": \"no\", \"tex\": \"no\", \"text\": \"yes\"}", "yes", 3);
}

Test(models_jsonl, malformed_lines_name_line_and_column) {
    expect_bad("", "not a JSON object");
    expect_bad("[\"text\"]", "not a JSON object");
    expect_bad("{\"text\": \"unterminated}", "unterminated string");
    expect_bad("{\"text\": \"ends in a backslash\\", "unterminated string");
    expect_bad("{\"text\": \"bad \\q escape\"}", "unknown escape");
    expect_bad("{\"text\": \"\\u12G4\"}", "four hexadecimal digits");
    expect_bad("{\"text\": \"\\u12\"}", "four hexadecimal digits");
    expect_bad("{\"text\": \"\\ud83d alone\"}", "high surrogate");
    expect_bad("{\"text\": \"\\ud83d\\u0041\"}", "high surrogate");
    expect_bad("{\"text\": \"\\ude00\"}", "low surrogate");
    expect_bad("{\"text\": \"tab\there\"}", "control character");
    expect_bad("{\"text\": 12}", "not a string");
    expect_bad("{\"id\": 1}", "no \"text\" member");
    expect_bad("{}", "no \"text\" member");
    expect_bad("{\"text\" \"x\"}", "expected ':'");
    expect_bad("{\"text\": \"x\" \"y\": 1}", "expected ',' or '}'");
    expect_bad("{\"text\": \"x\",}", "expected a string");
    expect_bad("{\"text\": \"x\"} trailing", "bytes after the object");
    expect_bad("{\"text\": \"x\"", "expected ',' or '}'");
    expect_bad("{\"a\": 01, \"text\": \"x\"}", "expected ',' or '}'");
    expect_bad("{\"a\": -, \"text\": \"x\"}", "expected a value");
    expect_bad("{\"a\": 1., \"text\": \"x\"}", "digits after '.'");
    expect_bad("{\"a\": 1e, \"text\": \"x\"}", "exponent digits");
    expect_bad("{\"a\": tru, \"text\": \"x\"}", "expected a value");
    expect_bad("{\"a\": [1 2], \"text\": \"x\"}", "expected ',' or ']'");
    expect_bad("{\"a\": {\"b\" 1}, \"text\": \"x\"}", "expected ':'");
    expect_bad("{\"a\": ", "end of the line");
    /* nesting is bounded (the parser recurses) */
    char deep[300] = "{\"a\": ";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    expect_bad(deep, "nested too deeply");
    /* the column points at the problem: the bad escape's backslash is byte 13 */
    char out[64];
    size_t n;
    hekv_err err = {0};
    const char *line = "{\"text\": \"ab\\q\"}";
    cr_assert_eq(hekv_llama_json_text(line, strlen(line), 3, out, &n, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "line 3, column 13:") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_json_text(NULL, 3, 1, out, &n, &err), HEKV_ERR_ARG);
}

static hekv_llama_lambada_line parse(const char *line, char *scratch) {
    hekv_llama_lambada_line l;
    hekv_err err = {0};
    cr_assert_eq(hekv_llama_lambada_parse_line(line, strlen(line), 1, scratch, &l, &err),
                 HEKV_OK, "'%s': %s", line, err.msg);
    return l;
}

static void expect_passage(const char *line, const char *ctx, const char *tgt) {
    char scratch[256];
    hekv_llama_lambada_line l = parse(line, scratch);
    cr_assert_eq(l.kind, HEKV_LLAMA_LAMBADA_PASSAGE, "'%s'", line);
    cr_assert(l.context_len == strlen(ctx) && !memcmp(l.context, ctx, l.context_len),
              "'%s': context '%.*s'", line, (int)l.context_len, l.context);
    cr_assert(l.target_len == strlen(tgt) && !memcmp(l.target, tgt, l.target_len),
              "'%s': target '%.*s'", line, (int)l.target_len, l.target);
}

Test(models_jsonl, lambada_lines) {
    expect_passage("the cat sat on the mat", "the cat sat on the", "mat");
    expect_passage("  lead and trail \t ", "lead and", "trail");
    expect_passage("{\"text\": \"  she said \\\"go\\\" to \\u0064og \"}", "she said \"go\" to",
                   "dog");
    expect_passage("{\"text\": \"line\\nbreaks\\tsplit too\"}", "line\nbreaks\tsplit", "too");
    char scratch[64];
    cr_assert_eq(parse("", scratch).kind, HEKV_LLAMA_LAMBADA_BLANK);
    cr_assert_eq(parse(" \t\r", scratch).kind, HEKV_LLAMA_LAMBADA_BLANK);
    cr_assert_eq(parse("oneword", scratch).kind, HEKV_LLAMA_LAMBADA_SKIP);
    cr_assert_eq(parse("{\"text\": \"  single  \"}", scratch).kind, HEKV_LLAMA_LAMBADA_SKIP);
    cr_assert_eq(parse("{\"text\": \"\"}", scratch).kind, HEKV_LLAMA_LAMBADA_SKIP);
    /* a bad JSON line: the format error carries its number */
    hekv_llama_lambada_line l;
    hekv_err err = {0};
    const char *bad = "{\"text\": \"x";
    cr_assert_eq(hekv_llama_lambada_parse_line(bad, strlen(bad), 41, scratch, &l, &err),
                 HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "line 41") != NULL, "%s", err.msg);
    cr_assert_eq(hekv_llama_lambada_parse_line(bad, 3, 1, NULL, &l, &err), HEKV_ERR_ARG);
}
