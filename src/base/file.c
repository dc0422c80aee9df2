/* file.c: the two file calls of hekv (hekv/base.h): the atomic writer (temporary file,
 * write, fsync, rename, fsync of the directory) and the checked whole-file reader (regular
 * files only, a size cap, never blocking on a FIFO). Every file hekv writes or reads goes
 * through them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"

/* The directory part of path ("." when there is none), in a malloc'd string. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

hekv_status hekv_file_check_writable(const char *path, hekv_err *err) {
    if (!path || !*path)
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_check_writable: empty path");
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return hekv_err_set(err, HEKV_ERR_IO, "cannot write '%s': it is %s", path,
                            kind_of(st.st_mode));
    char *dir = dir_of(path);
    if (!dir) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_file_check_writable: out of memory");
    hekv_status s = HEKV_OK;
    if (stat(dir, &st) != 0)
        s = hekv_err_set(err, HEKV_ERR_IO, "cannot write '%s': directory '%s': %s", path, dir,
                         strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        s = hekv_err_set(err, HEKV_ERR_IO, "cannot write '%s': '%s' is not a directory", path,
                         dir);
    else if (access(dir, W_OK | X_OK) != 0)
        s = hekv_err_set(err, HEKV_ERR_IO, "cannot write '%s': directory '%s': %s", path, dir,
                         strerror(errno));
    free(dir);
    return s;
}

hekv_status hekv_file_write(const char *path, const uint8_t *data, size_t len, unsigned flags,
                            hekv_err *err) {
    if (!path || !*path || (!data && len))
        return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_write: NULL argument");
    if (sodium_init() < 0)
        return hekv_err_set(err, HEKV_ERR_UNSUPPORTED, "libsodium failed to initialise");
    const int secret = (flags & HEKV_FILE_SECRET) ||
                       (len >= 8 && !memcmp(data, "HEKV", 4) && hekv_obj_type_secret(data[6]));
    const size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    if (!tmp) return hekv_err_set(err, HEKV_ERR_NOMEM, "hekv_file_write: out of memory");
    /* A fresh name beside path, created exclusively: its mode is 0600 for secrets, and
     * 0666 less the umask otherwise (the process's choice, which a fixed 0644 ignored). */
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 64; tries++) {
        snprintf(tmp, pl + 32, "%s.tmp.%08x", path, (unsigned)randombytes_random());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        hekv_err_set(err, HEKV_ERR_IO, "cannot create a temporary file next to '%s': %s", path,
                     strerror(errno));
        free(tmp);
        return HEKV_ERR_IO;
    }
    const char *step = "set the mode of";
    if (secret && fchmod(fd, 0600) != 0) goto fail;
    step = "write";
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            goto fail;
        }
        done += (size_t)w;
    }
    step = "fsync";
    if (fsync(fd) != 0) goto fail;
    step = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    step = "rename";
    if (rename(tmp, path) != 0) goto fail;
    /* make the rename durable (best effort: some file systems refuse a directory fsync) */
    char *dir = dir_of(path);
    if (dir) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    return HEKV_OK;
fail: {
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return hekv_err_set(err, HEKV_ERR_IO, "cannot %s '%s': %s", step, path, strerror(e));
}
}

hekv_status hekv_file_read(const char *path, uint64_t max_bytes, hekv_buf *out, hekv_err *err) {
    if (!path || !out) return hekv_err_set(err, HEKV_ERR_ARG, "hekv_file_read: NULL argument");
    out->data = NULL;
    out->len = 0;
    if (max_bytes == 0 || max_bytes > HEKV_FILE_MAX_BYTES) max_bytes = HEKV_FILE_MAX_BYTES;
    /* O_NONBLOCK: opening a FIFO with no writer must not hang; regular files ignore it */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return hekv_err_set(err, HEKV_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hekv_err_set(err, HEKV_ERR_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hekv_err_set(err, HEKV_ERR_IO, "cannot read '%s': it is %s, not a regular file",
                            path, kind_of(st.st_mode));
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return hekv_err_set(err, HEKV_ERR_IO,
                            "cannot read '%s': %llu bytes, more than the %llu this file kind "
                            "may have",
                            path, (unsigned long long)st.st_size,
                            (unsigned long long)max_bytes);
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const size_t size = (size_t)st.st_size;
    uint8_t *b = malloc(size ? size : 1);
    if (!b) {
        close(fd);
        return hekv_err_set(err, HEKV_ERR_NOMEM, "cannot read '%s': out of memory (%zu bytes)",
                            path, size);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t r = read(fd, b + done, size - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            free(b);
            return hekv_err_set(err, HEKV_ERR_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (r == 0) break; /* the file shrank: return what is there, the parser complains */
        done += (size_t)r;
    }
    close(fd);
    out->data = b;
    out->len = done;
    return HEKV_OK;
}
