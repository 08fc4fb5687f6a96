/* Runs a command and writes its peak resident set size (KiB) and its CPU time (user + system,
 * in microseconds) to a file, on one line.
 *
 * Why not wait4 straight from pytest: on Linux a child's ru_maxrss starts from the memory
 * of the process that forked it, carried across exec, so every child of pytest would weigh
 * pytest's 30 MB. Forked from this small process instead, the command's figure is its own.
 * Usage: peak_rss OUT_FILE COMMAND [ARGS...]; the exit status or signal is the command's. */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("usage: peak_rss OUT_FILE COMMAND [ARGS...]\n", stderr);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("peak_rss: wait4");
        return 127;
    }
    FILE *out = fopen(argv[1], "w");
    if (out) {
        long long cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL +
                           usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
        fprintf(out, "%ld %lld\n", usage.ru_maxrss, cpu_us);
        fclose(out);
    }
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    return WEXITSTATUS(status);
}
