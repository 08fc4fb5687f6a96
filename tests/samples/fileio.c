/* File I/O inside the directory given as argv[1]: create, write, read back, seek, pread,
 * append, truncate, stat, utimes, readdir, rename, symlink/readlink, unlink, mkdir/rmdir, and
 * the errors of the common mistakes. Everything it prints and the files it leaves behind are
 * the same on every conforming system. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static const char *at(const char *name)
{
    static char paths[4][1024];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s (errno %d)\n", what, errno);
        exit(1);
    }
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EBADF: return "EBADF";
    default: return "other";
    }
}

static void expect_error(int result, const char *what)
{
    printf("%s: %s\n", what, result == 0 ? "succeeded?!" : errno_name(errno));
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *name)
{
    DIR *d = opendir(at(name));
    check(d != NULL, "opendir");
    char *names[64];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL && count < 64) {
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
            names[count++] = strdup(entry->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);
    printf("%s:", name);
    for (int i = 0; i < count; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    char buf[256];
    struct stat st;
    ssize_t n;

    if (argc < 2) {
        fprintf(stderr, "usage: fileio DIR\n");
        return 2;
    }
    dir = argv[1];

    check(mkdir(at("work"), 0755) == 0, "mkdir work");
    int fd = open(at("work/a.txt"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    check(fd >= 0, "create a.txt");
    check(write(fd, "hello ", 6) == 6 && write(fd, "world\n", 6) == 6, "write");
    check(close(fd) == 0, "close");

    FILE *f = fopen(at("work/a.txt"), "a");
    check(f != NULL, "fopen append");
    fprintf(f, "line %d\n", 2);
    fclose(f);

    fd = open(at("work/a.txt"), O_RDONLY);
    check(fd >= 0, "open for reading");
    n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("read %zd bytes: %s", n, buf);
    printf("seek to 6: %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    n = read(fd, buf, 5);
    buf[n] = 0;
    printf("read after seek: [%s]\n", buf);
    printf("tell: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("seek end-3: %lld\n", (long long)lseek(fd, -3, SEEK_END));
    n = pread(fd, buf, 4, 1);
    buf[n] = 0;
    printf("pread 4 at 1: [%s]\n", buf);
    expect_error(write(fd, "x", 1) == 1 ? 0 : -1, "write to a read-only fd");
    close(fd);

    check(stat(at("work/a.txt"), &st) == 0, "stat");
    printf("size %lld, regular %d, directory %d\n", (long long)st.st_size,
           S_ISREG(st.st_mode) != 0, S_ISDIR(st.st_mode) != 0);
    check(stat(at("work"), &st) == 0, "stat dir");
    printf("work is a directory: %d\n", S_ISDIR(st.st_mode) != 0);

    fd = open(at("work/a.txt"), O_RDWR);
    check(fd >= 0 && ftruncate(fd, 11) == 0, "ftruncate");
    check(fstat(fd, &st) == 0, "fstat");
    printf("size after truncate: %lld\n", (long long)st.st_size);
    check(pwrite(fd, "W", 1, 6) == 1, "pwrite");
    close(fd);

    struct timespec times[2] = {{1000000000, 0}, {1234567890, 0}};
    check(utimensat(AT_FDCWD, at("work/a.txt"), times, 0) == 0, "utimensat");
    check(stat(at("work/a.txt"), &st) == 0, "stat after utimensat");
    printf("mtime %lld, atime %lld\n", (long long)st.st_mtime, (long long)st.st_atime);

    f = fopen(at("work/b.txt"), "w+");
    check(f != NULL, "fopen w+");
    for (int i = 0; i < 3; i++)
        fprintf(f, "row %d\n", i);
    rewind(f);
    while (fgets(buf, sizeof buf, f))
        printf("b.txt: %s", buf);
    printf("ftell at end: %ld\n", ftell(f));
    fclose(f);

    check(mkdir(at("work/sub"), 0755) == 0, "mkdir sub");
    f = fopen(at("work/sub/c.txt"), "w");
    check(f != NULL, "fopen c.txt");
    fputs("in a subdirectory\n", f);
    fclose(f);
    list("work");

    check(rename(at("work/b.txt"), at("work/renamed.txt")) == 0, "rename");
    expect_error(stat(at("work/b.txt"), &st), "stat the old name");
    check(symlink("renamed.txt", at("work/link")) == 0, "symlink");
    n = readlink(at("work/link"), buf, sizeof buf - 1);
    check(n > 0, "readlink");
    buf[n] = 0;
    printf("link -> %s\n", buf);
    check(lstat(at("work/link"), &st) == 0, "lstat");
    printf("lstat says symlink: %d\n", S_ISLNK(st.st_mode) != 0);
    check(stat(at("work/link"), &st) == 0, "stat through link");
    printf("stat through the link: size %lld\n", (long long)st.st_size);
    check(unlink(at("work/link")) == 0, "unlink link");
    list("work");

    expect_error(rmdir(at("work/sub")), "rmdir a non-empty directory");
    expect_error(mkdir(at("work/sub"), 0755), "mkdir an existing directory");
    expect_error(open(at("work/missing.txt"), O_RDONLY) >= 0 ? 0 : -1, "open a missing file");
    expect_error(open(at("work/a.txt/x"), O_RDONLY) >= 0 ? 0 : -1, "open below a file");
    expect_error(unlink(at("work/sub")), "unlink a directory");
    check(unlink(at("work/sub/c.txt")) == 0, "unlink c.txt");
    check(rmdir(at("work/sub")) == 0, "rmdir sub");
    list("work");

    f = fopen(at("result.txt"), "w");
    check(f != NULL, "fopen result.txt");
    fprintf(f, "fileio finished\n");
    fclose(f);
    printf("done\n");
    return 0;
}
