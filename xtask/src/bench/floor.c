/*
 * The C floor for `cargo xtask bench`: what a minimal static dropper costs, and what the same
 * job costs written in C.
 *
 *   floor UID COMMAND [ARG]...          setgroups(1, {UID}), setgid, setuid, execvp
 *   floor --same-job USER COMMAND ...   sudrop's whole job for USER, step for step: the
 *                                       caller's ids, groups and capabilities; USER looked
 *                                       up as su-exec does (getpwnam, then getpwuid for a
 *                                       number; getgrouplist); HOME (and USER, LOGNAME when
 *                                       set); a terminal in reach (stdin, stdout, stderr,
 *                                       /dev/tty, any descriptor above 2, counted by stat of
 *                                       /proc/self/fd and listed only when there are some);
 *                                       the facts of stdin, stdout and stderr the hand-over
 *                                       needs; COMMAND found on PATH; the bounding set
 *                                       emptied (until EINVAL); groups (when they differ),
 *                                       gid and uid; every capability set cleared;
 *                                       no_new_privs; then the result checked: ids, groups,
 *                                       capability sets, nothing above the last bounding
 *                                       capability, and uid 0 and gid 0 out of reach
 *   floor --suexec-job USER COMMAND ... the part of that job su-exec and gosu do: the look-up,
 *                                       HOME, the bounding set, groups, gid and uid, the
 *                                       capability sets cleared and the setuid(0) check
 *   floor --no-lookup UID COMMAND ...   that part for a numeric user without reading the user
 *                                       database (groups = {UID}, HOME untouched)
 *   floor --init-only COMMAND ...       the least an init does, as root: every signal blocked
 *                                       and read from a signalfd, child subreaper, COMMAND
 *                                       started with vfork under the launcher's mask, reaped
 *                                       when SIGCHLD comes, its status passed on
 *   floor --init-job USER COMMAND ...   sudrop --init's job: --same-job, then the init sudrop
 *                                       runs: the launcher's SIGCHLD disposition read and the
 *                                       parent's pid kept (for the parent-death check) before
 *                                       the switch; COMMAND in a process group of its own;
 *                                       the init out of the launch directory, holding no
 *                                       inherited descriptor; every child reaped until none
 *                                       is left
 *
 * Built by the bench with `musl-gcc -static -Os` (or `cc -static -Os`); not shipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

/* What sudrop's init adds to the least an init does (see the top of the file). */
static int full_init;

/* Runs COMMAND under the init and returns its status. `signals` is a signalfd for every
 * signal, already blocked; `launcher` the mask to give back to the command. */
static int init_then_exit(int signals, const sigset_t *launcher, char **command) {
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        return fail("PR_SET_CHILD_SUBREAPER");
    pid_t child = vfork();
    if (child == 0) {
        if (full_init)
            setpgid(0, 0);
        sigprocmask(SIG_SETMASK, launcher, NULL);
        execvp(command[0], command);
        _exit(exec_failure());
    }
    if (child < 0)
        return fail("vfork");
    if (full_init) {
        if (chdir("/") != 0)
            return fail("chdir");
        syscall(SYS_close_range, signals + 1, ~0U, 0);
    }
    int status = -1;
    for (;;) {
        struct signalfd_siginfo info;
        if (read(signals, &info, sizeof info) != sizeof info)
            return fail("read");
        if (info.ssi_signo != SIGCHLD) {
            kill(full_init ? -child : child, (int)info.ssi_signo);
            continue;
        }
        int raw;
        pid_t reaped;
        while ((reaped = waitpid(-1, &raw, WNOHANG | (full_init ? WUNTRACED : 0))) > 0) {
            if (reaped == child && (WIFEXITED(raw) || WIFSIGNALED(raw))) {
                status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
                if (!full_init)
                    return status;
            }
        }
        if (reaped < 0 && errno == ECHILD && status >= 0)
            return status;
    }
}

/* Blocks every signal and opens a signalfd for them; the launcher's mask goes to `launcher`. */
static int block_signals(sigset_t *launcher) {
    sigset_t all;
    sigfillset(&all);
    if (sigprocmask(SIG_SETMASK, &all, launcher) != 0)
        return fail("sigprocmask");
    if (full_init) {
        struct sigaction child_signal;
        sigaction(SIGCHLD, NULL, &child_signal);
    }
    int signals = signalfd(-1, &all, SFD_CLOEXEC);
    if (signals < 0)
        return fail("signalfd");
    return signals;
}

/* Whether a terminal is in reach: stdin, stdout or stderr, a controlling terminal, or any
 * descriptor above 2 (`own` is the init's signalfd, -1 for none). */
static int terminal_in_reach(int own) {
    for (int fd = 0; fd <= 2; fd++)
        if (isatty(fd))
            return 1;
    int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (tty >= 0) {
        close(tty);
        return 1;
    }
    struct stat fds;
    if (stat("/proc/self/fd", &fds) == 0) {
        long expected = own > 2;
        for (int fd = 0; fd <= 2; fd++)
            expected += fcntl(fd, F_GETFD) >= 0;
        if (fds.st_size == expected)
            return 0;
    }
    DIR *listed = opendir("/proc/self/fd");
    if (listed == NULL)
        return 1;
    int found = 0;
    struct dirent *entry;
    while (!found && (entry = readdir(listed)) != NULL) {
        int fd = atoi(entry->d_name);
        found = fd > 2 && fd != own && fd != dirfd(listed) && isatty(fd);
    }
    closedir(listed);
    return found;
}

/* The facts of stdin, stdout and stderr the hand-over needs: file, owner, access mode, and
 * whether a FIFO is an anonymous pipe. */
static void stdio_facts(void) {
    for (int fd = 0; fd <= 2; fd++) {
        struct stat file;
        if (fstat(fd, &file) != 0)
            continue;
        if (S_ISFIFO(file.st_mode)) {
            struct statfs system;
            fstatfs(fd, &system);
        }
        fcntl(fd, F_GETFL);
    }
}

/* Whether COMMAND is found as execvp would find it (a name with a slash as it is). */
static int command_found(const char *command) {
    struct stat file;
    if (strchr(command, '/'))
        return stat(command, &file) == 0;
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/bin:/usr/bin";
    char candidate[4096];
    while (*path) {
        size_t length = strcspn(path, ":");
        if (length + strlen(command) + 2 <= sizeof candidate) {
            memcpy(candidate, path, length);
            candidate[length] = '/';
            strcpy(candidate + length + 1, command);
            if (stat(candidate, &file) == 0 && S_ISREG(file.st_mode))
                return 1;
        }
        path += length + (path[length] == ':');
    }
    return 0;
}

static int capabilities_empty(void) {
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    if (syscall(SYS_capget, &header, data) != 0)
        return 0;
    return (data[0].effective | data[0].permitted | data[0].inheritable | data[1].effective |
            data[1].permitted | data[1].inheritable) == 0;
}

/* Whether the process's supplementary groups are exactly `groups` (in any order). */
static int groups_are(const gid_t *groups, int count) {
    gid_t now[64];
    int have = getgroups(64, now);
    if (have != count)
        return 0;
    for (int i = 0; i < count; i++) {
        int found = 0;
        for (int j = 0; j < have; j++)
            found |= now[j] == groups[i];
        if (!found)
            return 0;
    }
    return 1;
}

/* Whether the job ends in the init instead of an exec; whether it is sudrop's whole job. */
static int as_init, whole_job;

/* USER's ids, groups and home as su-exec finds them; a number missing from passwd is
 * taken as uid = gid with no further groups and HOME=/. */
static int job_then_exec(const char *user, int lookup, char **command) {
    int signals = -1;
    sigset_t launcher;
    if (as_init && (signals = block_signals(&launcher)) < 0)
        return 125;
    /* Kept for the parent-death check, as sudrop's init keeps it (unused without
     * --pdeathsig, as here). */
    pid_t parent = as_init && full_init ? getppid() : 0;
    (void)parent;
    uid_t caller_uid, caller_euid, caller_suid;
    gid_t caller_gid, caller_egid, caller_sgid;
    if (whole_job && (getresuid(&caller_uid, &caller_euid, &caller_suid) != 0 ||
                      getresgid(&caller_gid, &caller_egid, &caller_sgid) != 0))
        return fail("getresuid");
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
        /* sudrop's groups are gosu's: the memberships /etc/group lists, without the primary
         * group getgrouplist puts first. */
        if (whole_job) {
            group_count--;
            memmove(groups, groups + 1, (size_t)group_count * sizeof *groups);
        }
    }
    if (lookup && setenv("HOME", home, 1) != 0)
        return 125;
    if (whole_job) {
        if (entry != NULL) {
            if (getenv("USER"))
                setenv("USER", entry->pw_name, 1);
            if (getenv("LOGNAME"))
                setenv("LOGNAME", entry->pw_name, 1);
        }
        struct cap_header header = {CAP_VERSION_3, 0};
        struct cap_data caller[2];
        gid_t caller_groups[64];
        if (syscall(SYS_capget, &header, caller) != 0 || getgroups(64, caller_groups) < 0)
            return fail("capget");
        terminal_in_reach(signals);
        stdio_facts();
        if (!command_found(command[0]))
            return 127;
    }
    int last_cap = 0;
    for (; last_cap < 64; last_cap++) {
        if (prctl(PR_CAPBSET_DROP, last_cap, 0, 0, 0) != 0) {
            if (errno == EINVAL)
                break;
            return fail("PR_CAPBSET_DROP");
        }
    }
    if (whole_job) {
        if (!groups_are(groups, group_count) && setgroups((size_t)group_count, groups) != 0)
            return fail("setgroups");
    } else if (setgroups((size_t)group_count, groups) != 0) {
        return fail("setgroups");
    }
    if (setgid(gid) != 0 || setuid(uid) != 0)
        return fail("drop");
    struct cap_header header = {CAP_VERSION_3, 0};
    struct cap_data data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) != 0)
        return fail("capset");
    if (whole_job) {
        if (uid != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            return fail("PR_SET_NO_NEW_PRIVS");
        uid_t r, e, s;
        gid_t rg, eg, sg;
        if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid ||
            getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid ||
            !groups_are(groups, group_count) || !capabilities_empty() ||
            (prctl(PR_CAPBSET_READ, last_cap, 0, 0, 0) > 0))
            return 125;
        if (uid != 0 && (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0))
            return 125;
    } else if (uid != 0 && setuid(0) == 0) {
        return 125;
    }
    if (as_init)
        return init_then_exit(signals, &launcher, command);
    execvp(command[0], command);
    return exec_failure();
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (argc > 2 && strcmp(mode, "--init-only") == 0) {
        sigset_t launcher;
        int signals = block_signals(&launcher);
        return signals < 0 ? 125 : init_then_exit(signals, &launcher, argv + 2);
    }
    int lookup = 1;
    if (strcmp(mode, "--same-job") == 0) {
        whole_job = 1;
    } else if (strcmp(mode, "--init-job") == 0) {
        whole_job = as_init = full_init = 1;
    } else if (strcmp(mode, "--no-lookup") == 0) {
        lookup = 0;
    } else if (strcmp(mode, "--suexec-job") != 0) {
        if (argc < 3)
            return 125;
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
    if (argc < 4)
        return 125;
    return job_then_exec(argv[2], lookup, argv + 3);
}
