/* A C program built with wasi-libc (Debian's), doing what real C programs and interpreters
 * such as CPython do with files: the open flag combinations POSIX allows, stdio, directory
 * listings, relative paths from a working directory, and links across mounts. Prints one line
 * per check ("name ok" or "name FAIL: reason") and exits with the number of failures. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures = 0;

static void check(const char *name, int ok, const char *why) {
    if (ok) {
        printf("%s ok\n", name);
    } else {
        printf("%s FAIL: %s (errno %d %s)\n", name, why, errno, strerror(errno));
        failures++;
    }
}

static const char *read_all(const char *path) {
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    const char *data = argc > 1 ? argv[1] : "/data";
    char path[512];

    /* CPython's io.open(..., "a") on a new file: O_CREAT|O_TRUNC|O_WRONLY|O_APPEND is legal. */
    snprintf(path, sizeof path, "%s/append.log", data);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
    check("open-creat-trunc-append", fd >= 0, "open");
    if (fd >= 0) {
        check("write-appends", write(fd, "one\n", 4) == 4, "write");
        close(fd);
    }
    fd = open(path, O_WRONLY | O_APPEND);
    if (fd >= 0) {
        lseek(fd, 0, SEEK_SET);
        write(fd, "two\n", 4);
        close(fd);
    }
    const char *text = read_all(path);
    check("append-goes-to-end", text && strcmp(text, "one\ntwo\n") == 0, text ? text : "read");

    /* O_CREAT without write access is legal and creates the file. */
    snprintf(path, sizeof path, "%s/created-readonly", data);
    fd = open(path, O_CREAT | O_RDONLY, 0644);
    check("open-creat-rdonly", fd >= 0, "open");
    if (fd >= 0) {
        errno = 0;
        check("write-to-rdonly-is-ebadf", write(fd, "x", 1) == -1 && errno == EBADF, "write succeeded");
        close(fd);
    }
    struct stat st;
    check("created-file-exists", stat(path, &st) == 0 && S_ISREG(st.st_mode), "stat");

    /* O_EXCL on an existing file. */
    errno = 0;
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    check("excl-exists-is-eexist", fd == -1 && errno == EEXIST, "open succeeded");

    /* stdio update mode. */
    snprintf(path, sizeof path, "%s/update.txt", data);
    FILE *f = fopen(path, "w+");
    check("fopen-w+", f != NULL, "fopen");
    if (f) {
        fputs("hello world", f);
        rewind(f);
        char word[16] = {0};
        check("fscanf-after-rewind", fscanf(f, "%15s", word) == 1 && strcmp(word, "hello") == 0, word);
        fclose(f);
    }

    /* A directory listing with . and .. */
    snprintf(path, sizeof path, "%s", data);
    DIR *d = opendir(path);
    check("opendir", d != NULL, "opendir");
    int dots = 0, files = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                dots += e->d_ino != 0;
            } else {
                files++;
            }
        }
        closedir(d);
    }
    check("readdir-dots-have-inodes", dots == 2, "d_ino 0 for . or ..");
    check("readdir-lists-files", files >= 3, "too few entries");

    /* The working directory: relative paths resolve from it, also across a mount's root. */
    check("chdir", chdir(data) == 0, "chdir");
    check("relative-read", (text = read_all("append.log")) && strcmp(text, "one\ntwo\n") == 0, "read");
    check("dotdot-leaves-the-mount", read_all("../etc/hostname") != NULL, "../etc/hostname");

    /* The Pulp layout: an absolute link in one mount to a file in another. */
    snprintf(path, sizeof path, "%s/link", data);
    unlink(path);
    check("symlink-absolute", symlink("/content/file.txt", path) == 0, "symlink");
    text = read_all(path);
    check("follow-link-across-mounts", text && strcmp(text, "content\n") == 0, text ? text : "read");
    char target[64] = {0};
    check("readlink", readlink(path, target, sizeof target - 1) > 0 && strcmp(target, "/content/file.txt") == 0, target);

    /* ftruncate, fsync and rename. */
    snprintf(path, sizeof path, "%s/update.txt", data);
    fd = open(path, O_RDWR);
    check("ftruncate", fd >= 0 && ftruncate(fd, 5) == 0 && fsync(fd) == 0, "ftruncate/fsync");
    if (fd >= 0) close(fd);
    char to[512];
    snprintf(to, sizeof to, "%s/renamed.txt", data);
    check("rename", rename(path, to) == 0, "rename");
    text = read_all(to);
    check("truncated-and-renamed", text && strcmp(text, "hello") == 0, text ? text : "read");
    errno = 0;
    check("rename-across-mounts-is-exdev", rename(to, "/content/moved.txt") == -1 && errno == EXDEV, "rename");

    printf("%d failures\n", failures);
    return failures;
}
