/*
 * The C floor for `cargo xtask bench`: what a minimal static dropper costs.
 *
 *   floor UID COMMAND [ARG]...         setgroups(1, {UID}), setgid, setuid, execvp
 *   floor --same-job UID COMMAND ...   also what sudrop does beyond that for a numeric
 *                                      user: empty the bounding set (until EINVAL), clear
 *                                      every capability set, and check that setuid(0) fails
 *
 * Built by the bench with `musl-gcc -static -Os` (or `cc -static -Os`); not shipped.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

int main(int argc, char **argv) {
    int same_job = argc > 1 && strcmp(argv[1], "--same-job") == 0;
    argv += same_job;
    argc -= same_job;
    if (argc < 3)
        return 125;
    char *end;
    unsigned long id = strtoul(argv[1], &end, 10);
    if (*end != '\0' || id >= 0xffffffffUL)
        return 125;
    gid_t group = (gid_t)id;
    if (same_job) {
        for (int cap = 0; cap < 64; cap++) {
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
                if (errno == EINVAL)
                    break;
                return fail("PR_CAPBSET_DROP");
            }
        }
    }
    if (setgroups(1, &group) != 0 || setgid((gid_t)id) != 0 || setuid((uid_t)id) != 0)
        return fail("drop");
    if (same_job) {
        struct cap_header header = {CAP_VERSION_3, 0};
        struct cap_data data[2];
        memset(data, 0, sizeof data);
        if (syscall(SYS_capset, &header, data) != 0)
            return fail("capset");
        if (id != 0 && setuid(0) == 0)
            return 125;
    }
    execvp(argv[2], argv + 2);
    return errno == ENOENT ? 127 : 126;
}
