/*
 * The C floor for `cargo xtask bench`: what a minimal static dropper costs.
 *
 *   floor UID COMMAND [ARG]...          setgroups(1, {UID}), setgid, setuid, execvp
 *   floor --same-job USER COMMAND ...   the whole of sudrop's job for USER (a name or a
 *                                       number): look it up as su-exec does (getpwnam, then
 *                                       getpwuid for a number; getgrouplist), set HOME,
 *                                       empty the bounding set (until EINVAL), drop
 *                                       groups/gid/uid, clear every capability set and
 *                                       check that setuid(0) fails
 *   floor --no-lookup UID COMMAND ...   the same job for a numeric user without reading the
 *                                       user database (groups = {UID}, HOME untouched)
 *   floor --init-only COMMAND ...       the least an init does, as root: every signal blocked
 *                                       and read from a signalfd, child subreaper, COMMAND
 *                                       started with vfork under the launcher's mask, reaped
 *                                       when SIGCHLD comes, its status passed on
 *   floor --init-job USER COMMAND ...   sudrop --init's job: --same-job, then that init
 *
 * Built by the bench with `musl-gcc -static -Os` (or `cc -static -Os`); not shipped.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* capget/capset's version 3 structures (linux/capability.h, which musl-gcc cannot see). */
struct cap_header {
    unsigned int version;
    int pid;
};
struct cap_data {
    unsigned int effective, permitted, inheritable;
};
#define CAP_VERSION_3 0x20080522

static int fail(const char *what) {
    perror(what);
    return 125;
}

/* The status after a failed execvp, as a shell gives it. */
static int exec_failure(void) {
    return errno == ENOENT ? 127 : 126;
}

/* Runs COMMAND under the least an init does and returns its status. */
static int init_then_exit(char **command) {
    sigset_t all, launcher;
    sigfillset(&all);
    if (sigprocmask(SIG_SETMASK, &all, &launcher) != 0)
        return fail("sigprocmask");
    int signals = signalfd(-1, &all, SFD_CLOEXEC);
    if (signals < 0)
        return fail("signalfd");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        return fail("PR_SET_CHILD_SUBREAPER");
    pid_t child = vfork();
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &launcher, NULL);
        execvp(command[0], command);
        _exit(exec_failure());
    }
    if (child < 0)
        return fail("vfork");
    for (;;) {
        struct signalfd_siginfo info;
        if (read(signals, &info, sizeof info) != sizeof info)
            return fail("read");
        if (info.ssi_signo != SIGCHLD) {
            kill(child, (int)info.ssi_signo);
            continue;
        }
        int status;
        pid_t reaped;
        while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped == child)
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
}

/* Whether the job ends in init_then_exit instead of an exec. */
static int as_init;

/* USER's ids, groups and home as su-exec finds them; a number missing from passwd is
 * taken as uid = gid with no further groups and HOME=/. */
static int same_job_then_exec(const char *user, int lookup, char **command) {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    int group_count = 1;
    const char *home = "/";
    struct passwd *entry = lookup ? getpwnam(user) : NULL;
    if (entry == NULL) {
        char *end;
        unsigned long id = strtoul(user, &end, 10);
        if (*user == '\0' || *end != '\0' || id >= 0xffffffffUL)
            return 125;
        entry = lookup ? getpwuid((uid_t)id) : NULL;
        uid = (uid_t)id;
        gid = (gid_t)id;
        groups[0] = gid;
    }
    if (entry != NULL) {
        uid = entry->pw_uid;
        gid = entry->pw_gid;
        home = entry->pw_dir;
        group_count = 64;
        if (getgrouplist(entry->pw_name, gid, groups, &group_count) < 0)
            return 125;
    }
    if (lookup && setenv("HOME", home, 1) != 0)
        return 125;
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            if (errno == EINVAL)
                break;
            return fail("PR_CAPBSET_DROP");
        }
    }
    if (setgroups((size_t)group_count, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
        return fail("drop");
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0)
        return fail("capset");
    if (uid != 0 && setuid(0) == 0)
        return 125;
    if (as_init)
        return init_then_exit(command);
    execvp(command[0], command);
    return exec_failure();
}

int main(int argc, char **argv) {
    int same_job = argc > 1 && strcmp(argv[1], "--same-job") == 0;
    int no_lookup = argc > 1 && strcmp(argv[1], "--no-lookup") == 0;
    if (argc > 2 && strcmp(argv[1], "--init-only") == 0)
        return init_then_exit(argv + 2);
    as_init = argc > 1 && strcmp(argv[1], "--init-job") == 0;
    same_job |= as_init;
    argv += same_job + no_lookup;
    argc -= same_job + no_lookup;
    if (argc < 3)
        return 125;
    if (same_job || no_lookup)
        return same_job_then_exec(argv[1], same_job, argv + 2);
    char *end;
    unsigned long id = strtoul(argv[1], &end, 10);
    if (*end != '\0' || id >= 0xffffffffUL)
        return 125;
    gid_t group = (gid_t)id;
    if (setgroups(1, &group) != 0 || setgid((gid_t)id) != 0 || setuid((uid_t)id) != 0)
        return fail("drop");
    execvp(argv[2], argv + 2);
    return exec_failure();
}
