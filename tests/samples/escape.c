/* Tries to get out of the directory it is given (argv[1], the preopen as the guest sees it)
 * with ordinary libc calls, and prints how each attempt failed. Only meaningful under the
 * WASI sandbox: natively every attempt would simply work. The directory must contain the
 * links test_wasi_escape.py sets up (up_link -> .., abs_link -> the outside directory,
 * secret_link -> ../outside/secret.txt) next to a sibling "outside" holding secret.txt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;

static const char *at(const char *name)
{
    static char paths[2][1024];
    static int next;
    char *path = paths[next++ % 2];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

static void report(const char *what, int result)
{
    const char *name = "other";
    if (result >= 0)
        name = "SUCCEEDED";
#ifdef ENOTCAPABLE
    else if (errno == ENOTCAPABLE)
        name = "ENOTCAPABLE";
#endif
    else if (errno == ENOENT)
        name = "ENOENT";
    else if (errno == EPERM)
        name = "EPERM";
    else if (errno == EACCES)
        name = "EACCES";
    printf("%s: %s\n", what, name);
}

int main(int argc, char **argv)
{
    struct stat st;
    if (argc < 2) {
        fprintf(stderr, "usage: escape DIR\n");
        return 2;
    }
    dir = argv[1];
    report("open ../outside/secret.txt", open(at("../outside/secret.txt"), O_RDONLY));
    report("open sub/../../outside/secret.txt",
           open(at("sub/../../outside/secret.txt"), O_RDONLY));
    report("open up_link/outside/secret.txt", open(at("up_link/outside/secret.txt"), O_RDONLY));
    report("open abs_link/secret.txt", open(at("abs_link/secret.txt"), O_RDONLY));
    report("open secret_link", open(at("secret_link"), O_RDONLY));
    report("create ../outside/new.txt", open(at("../outside/new.txt"), O_CREAT | O_WRONLY, 0644));
    report("stat ../outside/secret.txt", stat(at("../outside/secret.txt"), &st));
    report("stat secret_link", stat(at("secret_link"), &st));
    report("mkdir ../outside/made", mkdir(at("../outside/made"), 0755));
    report("unlink ../outside/secret.txt", unlink(at("../outside/secret.txt")));
    report("unlink up_link/outside/secret.txt", unlink(at("up_link/outside/secret.txt")));
    report("rename secret out", rename(at("up_link/outside/secret.txt"), at("stolen.txt")));
    report("symlink to ..", symlink("..", at("made_link")));
    report("symlink to /", symlink("/", at("made_link")));
    report("open made_link/outside/secret.txt", open(at("made_link/outside/secret.txt"), O_RDONLY));
    report("open a file inside", open(at("sub/inner.txt"), O_RDONLY));
    return 0;
}
