/*
 * c_check.wasm: what a C program gets from wasi-libc on a WASI preview-1 host, one line per
 * check: `ok NAME` or `FAIL NAME: reason`, then `c_check: N ok, M failed`. It exits with 0
 * when nothing failed and 1 otherwise. Built by build.rs with Debian's clang and wasi-libc.
 *
 * Usage: `c_check [DIR]`. DIR is a writable directory (`/tmp` by default); the file checks
 * work in `DIR/c_check.d`, which they make, fill and remove again. With `C_CHECK` in the
 * environment it prints `env C_CHECK=VALUE`.
 *
 * A check that fails says why and the next one still runs: one missing feature must not hide
 * every other result. Checks that need an earlier one's files fail too when it failed.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 2020-01-01T00:00:00Z: a wall clock before it was never set. */
#define YEAR_2020 1577836800L
/* How long the sleep checks sleep, in nanoseconds. */
#define NAP_NS 10000000L
/* The size of the file the read, write and seek checks use. */
#define DATA_SIZE 1000
/* Room for any path the checks build. */
#define PATH_MAX_LEN 512

/* A check returns 0 when it passed, or -1 after saying why here (through `fail`). */
static char reason[256];
static int passed, failed;
/* The directory given, and the one the file checks work in: DIR/c_check.d. */
static const char *dir;
static char work[PATH_MAX_LEN];

static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(reason, sizeof reason, format, args);
    va_end(args);
    return -1;
}

/* Fails with the step that failed and errno's message. */
static int fail_errno(const char *step) {
    return fail("%s: %s (errno %d)", step, strerror(errno), errno);
}

static void check(const char *name, int (*run)(void)) {
    reason[0] = '\0';
    if (run() == 0) {
        passed++;
        printf("ok %s\n", name);
    } else {
        failed++;
        printf("FAIL %s: %s\n", name, reason);
    }
}

/* `work/name` in `out`, which holds PATH_MAX_LEN bytes. */
static const char *in_work(char *out, const char *name) {
    snprintf(out, PATH_MAX_LEN, "%s/%s", work, name);
    return out;
}

/* Byte i of the data file: a pattern that repeats only every 251 bytes. */
static unsigned char data_byte(long i) {
    return (unsigned char)(i * 7 % 251);
}

/* The whole of file `path` into `buf` (at most `size` bytes); its length, or -1. */
static long slurp(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t got = fread(buf, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : (long)got;
}

static int check_printf(void) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%d|%s|%f|%.2f|%5d|%-4s|%x", -42, "wasi", 3.5, 2.0 / 3.0, 7, "ab", 255);
    const char *want = "-42|wasi|3.500000|0.67|    7|ab  |ff";
    if (n != (int)strlen(want) || strcmp(buf, want) != 0) {
        return fail("snprintf gave \"%s\" (%d), expected \"%s\"", buf, n, want);
    }
    n = printf("printf: %d %s %f\n", 1, "two", 3.25);
    if (n != (int)strlen("printf: 1 two 3.250000\n")) {
        return fail("printf returned %d", n);
    }
    return 0;
}

static int check_env(void) {
    const char *value = getenv("C_CHECK");
    if (value != NULL) {
        printf("env C_CHECK=%s\n", value);
    }
    return 0;
}

/* Removes what an earlier run that stopped half way left in the work directory. */
static void remove_stale(void) {
    static const char *const names[] = {"data.txt", "log.txt", "alpha", "mid", "zeta", "renamed.txt"};
    char path[PATH_MAX_LEN];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        unlink(in_work(path, names[i]));
    }
    rmdir(in_work(path, "sub"));
    rmdir(in_work(path, "moved"));
    rmdir(work);
}

static int check_mkdir(void) {
    remove_stale();
    if (mkdir(work, 0755) != 0) {
        return fail_errno("mkdir");
    }
    if (mkdir(work, 0755) == 0 || errno != EEXIST) {
        return fail("mkdir of an existing directory: expected EEXIST, got %s", strerror(errno));
    }
    return 0;
}

static int check_write_read(void) {
    char path[PATH_MAX_LEN];
    unsigned char out[DATA_SIZE];
    char in[DATA_SIZE + 16];
    for (long i = 0; i < DATA_SIZE; i++) {
        out[i] = data_byte(i);
    }
    FILE *f = fopen(in_work(path, "data.txt"), "w");
    if (f == NULL) {
        return fail_errno("fopen w");
    }
    size_t wrote = fwrite(out, 1, sizeof out, f);
    if (fclose(f) != 0) {
        return fail_errno("fclose");
    }
    if (wrote != sizeof out) {
        return fail("fwrite wrote %zu of %zu bytes", wrote, sizeof out);
    }
    long got = slurp(path, in, sizeof in);
    if (got < 0) {
        return fail_errno("fopen r, fread");
    }
    if (got != DATA_SIZE || memcmp(in, out, DATA_SIZE) != 0) {
        return fail("read back %ld bytes that differ from the %d written", got, DATA_SIZE);
    }
    return 0;
}

static int check_seek(void) {
    char path[PATH_MAX_LEN];
    unsigned char tail[10];
    FILE *f = fopen(in_work(path, "data.txt"), "r");
    if (f == NULL) {
        return fail_errno("fopen");
    }
    int result = -1;
    long at = -1;
    int c = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (at = ftell(f)) != DATA_SIZE) {
        fail("SEEK_END: at %ld, expected %d", ftell(f), DATA_SIZE);
    } else if (fseek(f, 100, SEEK_SET) != 0 || (c = fgetc(f)) != data_byte(100)) {
        fail("SEEK_SET 100: read %d, expected %d", c, data_byte(100));
    } else if (fseek(f, -51, SEEK_CUR) != 0 || (at = ftell(f)) != 50) {
        fail("SEEK_CUR -51 from 101: at %ld, expected 50", at);
    } else if (fseek(f, -10, SEEK_END) != 0 || fread(tail, 1, sizeof tail, f) != sizeof tail) {
        fail("SEEK_END -10 then fread: %s", strerror(errno));
    } else if (tail[0] != data_byte(DATA_SIZE - 10) || tail[9] != data_byte(DATA_SIZE - 1)) {
        fail("the last 10 bytes are wrong");
    } else if (fgetc(f) != EOF || !feof(f)) {
        fail("no end of file after the last byte");
    } else {
        result = 0;
    }
    fclose(f);
    return result;
}

static int check_append(void) {
    char path[PATH_MAX_LEN];
    char in[64];
    FILE *f = fopen(in_work(path, "log.txt"), "w");
    if (f == NULL) {
        return fail_errno("fopen w");
    }
    fprintf(f, "line %d\n", 1);
    if (fclose(f) != 0) {
        return fail_errno("fclose");
    }
    f = fopen(path, "a");
    if (f == NULL) {
        return fail_errno("fopen a");
    }
    fprintf(f, "line %d\n", 2);
    /* In append mode every write goes to the end, wherever the stream was moved. */
    fflush(f);
    fseek(f, 0, SEEK_SET);
    fprintf(f, "line %s\n", "3");
    if (fclose(f) != 0) {
        return fail_errno("fclose");
    }
    long got = slurp(path, in, sizeof in - 1);
    if (got < 0) {
        return fail_errno("read back");
    }
    in[got] = '\0';
    if (strcmp(in, "line 1\nline 2\nline 3\n") != 0) {
        return fail("read back \"%s\"", in);
    }
    return 0;
}

static int check_stat(void) {
    char path[PATH_MAX_LEN];
    struct stat st;
    if (stat(in_work(path, "data.txt"), &st) != 0) {
        return fail_errno("stat data.txt");
    }
    if (!S_ISREG(st.st_mode) || st.st_size != DATA_SIZE) {
        return fail("data.txt: mode %o, size %lld; expected a file of %d bytes", (unsigned)st.st_mode,
                    (long long)st.st_size, DATA_SIZE);
    }
    if (stat(work, &st) != 0) {
        return fail_errno("stat of the directory");
    }
    if (!S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
        return fail("%s: mode %o, not a directory", work, (unsigned)st.st_mode);
    }
    if (stat(in_work(path, "nothing"), &st) == 0 || errno != ENOENT) {
        return fail("stat of a missing file: expected ENOENT, got %s", strerror(errno));
    }
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_readdir(void) {
    static const char *const made[] = {"zeta", "alpha", "mid"};
    static const char *const want[] = {"alpha", "data.txt", "log.txt", "mid", "zeta"};
    enum { WANT = sizeof want / sizeof want[0] };
    char path[PATH_MAX_LEN];
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        FILE *f = fopen(in_work(path, made[i]), "w");
        if (f == NULL || fclose(f) != 0) {
            return fail_errno(made[i]);
        }
    }
    DIR *d = opendir(work);
    if (d == NULL) {
        return fail_errno("opendir");
    }
    char *names[16];
    size_t count = 0;
    int dots = 0;
    struct dirent *entry;
    errno = 0;
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
            dots++;
        } else if (count < sizeof names / sizeof names[0]) {
            names[count++] = strdup(entry->d_name);
        }
    }
    int read_errno = errno;
    closedir(d);
    int result = 0;
    if (read_errno != 0) {
        errno = read_errno;
        result = fail_errno("readdir");
    } else {
        qsort(names, count, sizeof names[0], compare_names);
        char seen[256] = "";
        for (size_t i = 0; i < count; i++) {
            size_t used = strlen(seen);
            snprintf(seen + used, sizeof seen - used, "%s%s", i ? " " : "", names[i]);
        }
        int same = count == WANT;
        for (size_t i = 0; same && i < count; i++) {
            same = strcmp(names[i], want[i]) == 0;
        }
        if (!same) {
            result = fail("listed [%s], expected [alpha data.txt log.txt mid zeta]", seen);
        }
    }
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    return result;
}

static int check_rename(void) {
    char from[PATH_MAX_LEN], to[PATH_MAX_LEN];
    struct stat st;
    if (rename(in_work(from, "log.txt"), in_work(to, "renamed.txt")) != 0) {
        return fail_errno("rename log.txt renamed.txt");
    }
    if (stat(from, &st) == 0 || errno != ENOENT) {
        return fail("log.txt is still there after the rename");
    }
    if (stat(to, &st) != 0 || st.st_size != (off_t)strlen("line 1\nline 2\nline 3\n")) {
        return fail("renamed.txt: not there, or not the size of log.txt");
    }
    /* Onto an existing file: it is replaced. */
    if (rename(in_work(from, "renamed.txt"), in_work(to, "zeta")) != 0) {
        return fail_errno("rename onto an existing file");
    }
    if (stat(to, &st) != 0 || st.st_size == 0) {
        return fail("zeta was not replaced by renamed.txt");
    }
    /* A directory. */
    if (mkdir(in_work(from, "sub"), 0755) != 0) {
        return fail_errno("mkdir sub");
    }
    if (rename(from, in_work(to, "moved")) != 0) {
        return fail_errno("rename of a directory");
    }
    if (stat(to, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return fail("the renamed directory is not there");
    }
    return 0;
}

static int check_unlink_rmdir(void) {
    static const char *const files[] = {"alpha", "data.txt", "mid", "zeta"};
    char path[PATH_MAX_LEN];
    struct stat st;
    if (rmdir(work) == 0 || errno != ENOTEMPTY) {
        return fail("rmdir of a full directory: expected ENOTEMPTY, got %s", strerror(errno));
    }
    if (unlink(in_work(path, "moved")) == 0) {
        return fail("unlink removed a directory");
    }
    if (rmdir(path) != 0) {
        return fail_errno("rmdir moved");
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (unlink(in_work(path, files[i])) != 0) {
            return fail_errno(files[i]);
        }
    }
    if (unlink(path) == 0 || errno != ENOENT) {
        return fail("unlink of a removed file: expected ENOENT, got %s", strerror(errno));
    }
    if (rmdir(work) != 0) {
        return fail_errno("rmdir of the emptied directory");
    }
    if (stat(work, &st) == 0 || errno != ENOENT) {
        return fail("the directory is still there after rmdir");
    }
    return 0;
}

static int check_missing(void) {
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/c_check-missing.txt", dir);
    errno = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        fclose(f);
        return fail("fopen of %s succeeded", path);
    }
    if (errno != ENOENT) {
        return fail("fopen of a missing file: errno %d (%s), expected ENOENT", errno, strerror(errno));
    }
    return 0;
}

static int check_time(void) {
    time_t now = time(NULL);
    if (now == (time_t)-1) {
        return fail_errno("time");
    }
    if (now < YEAR_2020) {
        return fail("%lld s after the epoch, before 2020", (long long)now);
    }
    return 0;
}

static long long monotonic_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return -1;
    }
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int check_sleep(void) {
    struct timespec nap = {0, NAP_NS};
    long long start = monotonic_ns();
    if (start < 0) {
        return fail_errno("clock_gettime");
    }
    if (nanosleep(&nap, NULL) != 0) {
        return fail_errno("nanosleep");
    }
    long long after_nanosleep = monotonic_ns();
    if (usleep(NAP_NS / 1000) != 0) {
        return fail_errno("usleep");
    }
    long long after_usleep = monotonic_ns();
    if (after_nanosleep - start < NAP_NS) {
        return fail("nanosleep of 10 ms: the clock moved %lld ns", after_nanosleep - start);
    }
    if (after_usleep - after_nanosleep < NAP_NS) {
        return fail("usleep of 10 ms: the clock moved %lld ns", after_usleep - after_nanosleep);
    }
    return 0;
}

int main(int argc, char **argv) {
    /* One write per line, so a host that hangs still shows how far the checks got. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    dir = argc > 1 ? argv[1] : "/tmp";
    /* Leaves room in every path buffer for the longest name a check adds. */
    if (strlen(dir) > PATH_MAX_LEN - 64) {
        printf("FAIL options: the directory's name is longer than %d bytes\n", PATH_MAX_LEN - 64);
        printf("c_check: 0 ok, 1 failed\n");
        return 1;
    }
    snprintf(work, sizeof work, "%s/c_check.d", dir);

    check("printf", check_printf);
    check("env", check_env);
    check("mkdir", check_mkdir);
    check("write_read", check_write_read);
    check("seek", check_seek);
    check("append", check_append);
    check("stat", check_stat);
    check("readdir", check_readdir);
    check("rename", check_rename);
    check("unlink_rmdir", check_unlink_rmdir);
    check("missing_file", check_missing);
    check("time", check_time);
    check("sleep", check_sleep);

    printf("c_check: %d ok, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
