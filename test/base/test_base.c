/* test_base.c: the base layer: the byte codec (little-endian fields, bit-packed residues
 * against a plain bit-by-bit model for every width, bounded reads that never pass the end),
 * the HEKV container (round trip, every header check with its message), owned buffers,
 * and the file calls: atomic writes that keep the old file on failure and leave no
 * temporary behind, modes (0600 for a secret key whatever the caller asks, the umask for
 * everything else), and a reader that refuses directories, FIFOs (without blocking),
 * devices and files over its cap. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/codec.h"
#include "src/base/container.h"
#include "test/util.h"

/* ---- codec ---------------------------------------------------------------------------- */

Test(base_codec, fields_round_trip_little_endian) {
    uint8_t buf[64];
    hekv_wr w;
    hekv_wr_init(&w, buf, sizeof buf);
    hekv_wr_u8(&w, 0xab);
    hekv_wr_u16(&w, 0x1234);
    hekv_wr_u32(&w, 0xdeadbeef);
    hekv_wr_u64(&w, 0x0102030405060708ULL);
    hekv_wr_f64(&w, -0x1.23456789abcdep-3);
    hekv_wr_bytes(&w, "xyz", 3);
    cr_assert_eq(w.off, 1 + 2 + 4 + 8 + 8 + 3);
    cr_assert_eq(buf[1], 0x34); /* little-endian */
    cr_assert_eq(buf[2], 0x12);
    cr_assert_eq(buf[7], 0x08);
    hekv_rd r;
    hekv_rd_init(&r, buf, w.off);
    cr_assert_eq(hekv_rd_u8(&r), 0xab);
    cr_assert_eq(hekv_rd_u16(&r), 0x1234);
    cr_assert_eq(hekv_rd_u32(&r), 0xdeadbeef);
    cr_assert_eq(hekv_rd_u64(&r), 0x0102030405060708ULL);
    cr_assert_eq(hekv_rd_f64(&r), -0x1.23456789abcdep-3);
    char s[3];
    hekv_rd_bytes(&r, s, 3);
    cr_assert_eq(memcmp(s, "xyz", 3), 0);
    cr_assert_not(r.short_read);
    /* past the end: zero values, the sticky flag, the position unchanged */
    const size_t at = r.off;
    cr_assert_eq(hekv_rd_u32(&r), 0);
    cr_assert(r.short_read);
    cr_assert_eq(r.off, at);
    cr_assert_null(hekv_rd_skip(&r, 1));
    /* signed and float fields */
    hekv_wr_init(&w, buf, sizeof buf);
    hekv_wr_u32(&w, (uint32_t)-5);
    const float f = -1.5f;
    uint32_t fb;
    memcpy(&fb, &f, 4);
    hekv_wr_u32(&w, fb);
    hekv_rd_init(&r, buf, w.off);
    cr_assert_eq(hekv_rd_i32(&r), -5);
    cr_assert_eq(hekv_rd_f32(&r), -1.5f);
}

/* Bit i of a packed stream, the plain way. */
static int bit_at(const uint8_t *b, size_t i) { return (b[i / 8] >> (i % 8)) & 1; }

Test(base_codec, limbs_pack_every_width_exactly) {
    test_rng g = test_rng_new(0xc0dec);
    const size_t n = 128; /* n * bits is a multiple of 64 for every width */
    uint64_t x[128], y[128];
    uint8_t buf[128 * 8];
    for (int bits = 1; bits <= 64; bits++) {
        const uint64_t mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
        for (size_t i = 0; i < n; i++) x[i] = test_u64(&g) & mask;
        x[0] = mask; /* the largest value and zero at the edges */
        x[n - 1] = 0;
        hekv_wr w;
        hekv_wr_init(&w, buf, sizeof buf);
        hekv_wr_limb(&w, x, n, bits);
        cr_assert_eq(w.off, hekv_codec_limb_bytes(n, bits));
        for (size_t i = 0; i < n; i++)
            for (int k = 0; k < bits; k++)
                cr_assert_eq(bit_at(buf, i * (size_t)bits + (size_t)k), (int)((x[i] >> k) & 1),
                             "width %d value %zu bit %d", bits, i, k);
        hekv_rd r;
        hekv_rd_init(&r, buf, w.off);
        /* with q = 2^b - 1 every value but x[0] is below q: the first one that is not is 0 */
        size_t bad = hekv_rd_limb(&r, y, n, bits, mask);
        cr_assert_eq(memcmp(x, y, n * 8), 0, "width %d", bits);
        cr_assert_eq(bad, 0, "width %d: x[0] = 2^b - 1 is not below q", bits);
        cr_assert_eq(r.off, w.off);
        /* a short buffer reads nothing */
        hekv_rd_init(&r, buf, w.off - 1);
        hekv_rd_limb(&r, y, n, bits, ~0ULL);
        cr_assert(r.short_read);
    }
}

/* ---- container -------------------------------------------------------------------------- */

static const uint8_t FP[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static hekv_buf make_obj(hekv_obj_type t, unsigned flags, size_t body) {
    hekv_wr w;
    hekv_buf out = {0};
    hekv_err err;
    cr_assert_eq(hekv_cont_begin(&w, body, t, flags, FP, "toy-set", &err), HEKV_OK, "%s",
                 err.msg);
    for (size_t i = 0; i < body; i++) hekv_wr_u8(&w, i * 7);
    hekv_cont_finish(&w, &out);
    return out;
}

Test(base_container, round_trip_and_header_checks) {
    hekv_buf b = make_obj(HEKV_OBJ_CT, 1, 40);
    cr_assert_eq(b.len, HEKV_CONT_HDR + 40 + HEKV_CONT_SUM);
    hekv_file_info info;
    hekv_err err;
    cr_assert_eq(hekv_file_peek(b.data, b.len, &info, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(info.type, HEKV_OBJ_CT);
    cr_assert_eq(info.flags, 1);
    cr_assert_eq(info.length, b.len);
    cr_assert_str_eq(info.set_name, "toy-set");
    cr_assert_eq(memcmp(info.fingerprint, FP, 16), 0);
    hekv_rd r;
    cr_assert_eq(hekv_cont_open(&r, b.data, b.len, HEKV_OBJ_CT, 1, FP, "toy-set", &info, &err),
                 HEKV_OK, "%s", err.msg);
    cr_assert_eq(r.off, HEKV_CONT_HDR);
    cr_assert_eq(r.end, b.len - HEKV_CONT_SUM);
    for (int i = 0; i < 40; i++) cr_assert_eq(hekv_rd_u8(&r), (uint8_t)(i * 7));
    cr_assert_eq(hekv_cont_close(&r, HEKV_OBJ_CT, &err), HEKV_OK);
    /* the checks, each with its message */
    struct {
        const char *what, *needle;
        hekv_status want;
    } cases[] = {
        {"another type", "not a plaintext", HEKV_ERR_FORMAT},
        {"unknown flags", "flags", HEKV_ERR_FORMAT},
        {"other fingerprint", "toy-set", HEKV_ERR_PARAMS},
        {"truncated", "truncated", HEKV_ERR_FORMAT},
        {"trailing byte", "header says", HEKV_ERR_FORMAT},
        {"flipped body bit", "checksum", HEKV_ERR_FORMAT},
        {"magic", "magic", HEKV_ERR_FORMAT},
        {"version", "version", HEKV_ERR_FORMAT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint8_t *d = malloc(b.len + 1);
        memcpy(d, b.data, b.len);
        size_t len = b.len;
        hekv_obj_type type = HEKV_OBJ_CT;
        unsigned allowed = 1;
        uint8_t fp[16];
        memcpy(fp, FP, 16);
        switch (c) {
        case 0: type = HEKV_OBJ_PT; break;
        case 1: allowed = 0; break;
        case 2: fp[3] ^= 1; break;
        case 3: len -= 5; break;
        case 4: d[len++] = 0; break;
        case 5: d[HEKV_CONT_HDR + 3] ^= 8; break;
        case 6: d[0] = 'X'; break;
        case 7: d[4] = HEKV_FORMAT_VERSION + 1; break;
        }
        hekv_status s = hekv_cont_open(&r, d, len, type, allowed, fp, "other-set", &info, &err);
        cr_assert_eq(s, cases[c].want, "%s: status %d", cases[c].what, s);
        cr_assert(strstr(err.msg, cases[c].needle), "%s: message '%s' lacks '%s'",
                  cases[c].what, err.msg, cases[c].needle);
        free(d);
    }
    /* a body read short of its end, or past it */
    cr_assert_eq(hekv_cont_open(&r, b.data, b.len, HEKV_OBJ_CT, 1, NULL, NULL, &info, &err),
                 HEKV_OK);
    hekv_rd_u8(&r);
    cr_assert_eq(hekv_cont_close(&r, HEKV_OBJ_CT, &err), HEKV_ERR_FORMAT);
    cr_assert(strstr(err.msg, "size mismatch"), "%s", err.msg);
    cr_assert_eq(hekv_file_peek((const uint8_t *)"HEKV", 4, &info, &err), HEKV_ERR_FORMAT);
    hekv_buf_free(&b);
    cr_assert_null(b.data);
    hekv_buf_free(&b); /* twice, and NULL: no-ops */
    hekv_buf_free(NULL);
}

/* ---- files ------------------------------------------------------------------------------ */

static char tmpdir[64];

static void mkdir_tmp(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hekv_base_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static int entries(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", dir);
    FILE *f = popen(cmd, "r");
    int n = -1;
    cr_assert(fscanf(f, "%d", &n) == 1);
    pclose(f);
    return n;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
    return st.st_mode & 0777;
}

Test(base_file, modes_follow_the_type_and_the_umask) {
    mkdir_tmp();
    char sk[128], ct[128], any[128];
    snprintf(sk, sizeof sk, "%s/key.sk", tmpdir);
    snprintf(ct, sizeof ct, "%s/x.ct", tmpdir);
    snprintf(any, sizeof any, "%s/x.bin", tmpdir);
    hekv_buf s = make_obj(HEKV_OBJ_SK, 0, 16), c = make_obj(HEKV_OBJ_CT, 0, 16);
    hekv_err err;
    const mode_t old = umask(022);
    /* a secret key is 0600 even when the caller does not say so */
    cr_assert_eq(hekv_file_write(sk, s.data, s.len, 0, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(mode_of(sk), 0600);
    cr_assert_eq(hekv_file_write(ct, c.data, c.len, 0, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(mode_of(ct), 0644);
    cr_assert_eq(hekv_file_write(any, c.data, 10, HEKV_FILE_SECRET, &err), HEKV_OK);
    cr_assert_eq(mode_of(any), 0600);
    /* other files respect the umask: 077 gives 0600, 002 gives 0664 */
    umask(077);
    cr_assert_eq(hekv_file_write(ct, c.data, c.len, 0, &err), HEKV_OK);
    cr_assert_eq(mode_of(ct), 0600);
    umask(002);
    cr_assert_eq(hekv_file_write(ct, c.data, c.len, 0, &err), HEKV_OK);
    cr_assert_eq(mode_of(ct), 0664);
    cr_assert_eq(hekv_file_write(sk, s.data, s.len, 0, &err), HEKV_OK);
    cr_assert_eq(mode_of(sk), 0600);
    umask(old);
    cr_assert_eq(entries(tmpdir), 3, "temporary files left behind");
    hekv_buf_free(&s);
    hekv_buf_free(&c);
    rm_tmp();
}

Test(base_file, failed_write_keeps_the_old_file) {
    mkdir_tmp();
    char path[128];
    snprintf(path, sizeof path, "%s/out.bin", tmpdir);
    hekv_err err;
    uint8_t small[100], big[1 << 16];
    memset(small, 'a', sizeof small);
    memset(big, 'b', sizeof big);
    cr_assert_eq(hekv_file_write(path, small, sizeof small, 0, &err), HEKV_OK);
    /* a file-size limit below the new content: the write fails (SIGXFSZ ignored: EFBIG) */
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim.rlim_cur = 4096, lim.rlim_max = old.rlim_max; /* the soft limit only: it can go back */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    hekv_status st = hekv_file_write(path, big, sizeof big, 0, &err);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    cr_assert_eq(st, HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "write") && strstr(err.msg, path), "%s", err.msg);
    hekv_buf back = {0};
    cr_assert_eq(hekv_file_read(path, 0, &back, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(back.len, sizeof small, "the old file was damaged");
    cr_assert_eq(memcmp(back.data, small, sizeof small), 0);
    hekv_buf_free(&back);
    cr_assert_eq(entries(tmpdir), 1, "a temporary file was left behind");
    /* and a successful one replaces it whole */
    cr_assert_eq(hekv_file_write(path, big, sizeof big, 0, &err), HEKV_OK);
    cr_assert_eq(hekv_file_read(path, 0, &back, &err), HEKV_OK);
    cr_assert_eq(back.len, sizeof big);
    hekv_buf_free(&back);
    rm_tmp();
}

Test(base_file, reader_refuses_what_is_not_a_regular_file) {
    mkdir_tmp();
    hekv_err err;
    hekv_buf b = {0};
    char fifo[128], path[128], missing[128];
    snprintf(fifo, sizeof fifo, "%s/pipe", tmpdir);
    snprintf(path, sizeof path, "%s/f", tmpdir);
    snprintf(missing, sizeof missing, "%s/no/such", tmpdir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* a FIFO with no writer: refused at once instead of blocking forever */
    cr_assert_eq(hekv_file_read(fifo, 0, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "FIFO"), "%s", err.msg);
    cr_assert_eq(hekv_file_read(tmpdir, 0, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory"), "%s", err.msg);
    cr_assert_eq(hekv_file_read("/dev/zero", 0, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "device"), "%s", err.msg);
    cr_assert_eq(hekv_file_read(missing, 0, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "no/such"), "%s", err.msg);
    cr_assert_null(b.data);
    /* the size cap */
    uint8_t x[1000] = {0};
    cr_assert_eq(hekv_file_write(path, x, sizeof x, 0, &err), HEKV_OK);
    cr_assert_eq(hekv_file_read(path, 999, &b, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "1000 bytes"), "%s", err.msg);
    cr_assert_eq(hekv_file_read(path, 1000, &b, &err), HEKV_OK);
    cr_assert_eq(b.len, 1000);
    hekv_buf_free(&b);
    /* an empty file is a valid (empty) read */
    cr_assert_eq(hekv_file_write(path, x, 0, 0, &err), HEKV_OK);
    cr_assert_eq(hekv_file_read(path, 0, &b, &err), HEKV_OK);
    cr_assert_eq(b.len, 0);
    hekv_buf_free(&b);
    /* writing over a directory or into a missing one */
    cr_assert_eq(hekv_file_write(tmpdir, x, 10, 0, &err), HEKV_ERR_IO);
    cr_assert_eq(hekv_file_write(missing, x, 10, 0, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "no/such"), "%s", err.msg);
    unlink(fifo);
    rm_tmp();
}

Test(base_file, writable_checks_come_before_work) {
    mkdir_tmp();
    hekv_err err;
    char ok[128], nodir[128], ro[128], rofile[128];
    snprintf(ok, sizeof ok, "%s/out.calib", tmpdir);
    snprintf(nodir, sizeof nodir, "%s/missing/out", tmpdir);
    snprintf(ro, sizeof ro, "%s/ro", tmpdir);
    snprintf(rofile, sizeof rofile, "%s/ro/out", tmpdir);
    cr_assert_eq(hekv_file_check_writable(ok, &err), HEKV_OK, "%s", err.msg);
    cr_assert_eq(entries(tmpdir), 0, "the check created something");
    cr_assert_eq(hekv_file_check_writable(nodir, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "missing"), "%s", err.msg);
    cr_assert_eq(hekv_file_check_writable(tmpdir, &err), HEKV_ERR_IO);
    cr_assert(strstr(err.msg, "directory"), "%s", err.msg);
    cr_assert_eq(mkdir(ro, 0500), 0);
    if (geteuid() != 0) { /* root writes anywhere */
        cr_assert_eq(hekv_file_check_writable(rofile, &err), HEKV_ERR_IO);
        cr_assert(strstr(err.msg, "ro"), "%s", err.msg);
    }
    cr_assert_eq(hekv_file_check_writable("", &err), HEKV_ERR_ARG);
    chmod(ro, 0700);
    rm_tmp();
}
