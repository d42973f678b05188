# fish completion for sudrop
# Made by `cargo xtask docs` from sudrop's command-line definition: do not edit.

# Where the cursor is in sudrop's grammar: "options" (an option or USER-SPEC), "spec" (after
# --, only USER-SPEC), "command" (COMMAND), or "arguments N" (COMMAND's own arguments, with
# COMMAND the Nth token).
function __sudrop_state
    set -l tokens (commandline -opc)
    set -l want ''
    set -l options_done ''
    for i in (seq 2 (count $tokens))
        if test -n "$want"
            set want ''
            continue
        end
        set -l spec $i
        if test -z "$options_done"
            switch $tokens[$i]
                case --
                    set options_done 1
                    continue
                case --keep-cap --group-add --group-of --umask --ulimit --rewrite --remap-exit --grace --stop-delay --pdeathsig
                    set want 1
                    continue
                case -
                case '-*'
                    continue
            end
        end
        set -l command (math $spec + 1)
        if test $command -gt (count $tokens)
            echo command
        else
            printf '%s\n' arguments $command
        end
        return
    end
    if test -n "$options_done"
        echo spec
    else
        echo options
    end
end

function __sudrop_at
    contains -- (__sudrop_state)[1] $argv
end

function __sudrop_groups
    string replace -r '\t.*' '' -- (__fish_complete_groups)
end

# Prints each of $argv after the comma list typed so far.
function __sudrop_comma_list
    set -l value (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    set -l head (string replace -r -- '[^,]*$' '' $value)
    printf '%s\n' $head$argv
end

# USER-SPEC: a user name, or after a colon a group name.
function __sudrop_user_spec
    set -l current (commandline -ct)
    if string match -q -- '*:*' $current
        set -l user (string split -m 1 : -- $current)[1]
        printf '%s\n' $user:(__sudrop_groups)
    else
        __fish_complete_users
    end
end

# COMMAND's own arguments: completed as if COMMAND were typed alone.
function __sudrop_command_arguments
    set -l tokens (commandline -opc)
    set -l command (__sudrop_state)[2]
    complete -C (string join -- ' ' (string escape -- $tokens[$command..-1]) (commandline -ct))
end

complete -c sudrop -f
complete -c sudrop -n '__sudrop_at options' -l keep-cap -d 'Keep these capabilities (e.g. NET_BIND_SERVICE) in every set; repeatable' -x -a '(__sudrop_comma_list CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)'
complete -c sudrop -n '__sudrop_at options' -l no-new-privs -d 'Set no_new_privs for a root target too (a non-root target always gets it)'
complete -c sudrop -n '__sudrop_at options' -l allow-new-privs -d 'Let setuid programs and file capabilities work after the drop (no no_new_privs)'
complete -c sudrop -n '__sudrop_at options' -l keep-stdio-owner -d 'Leave stdin/stdout/stderr pipes and sockets owned by the caller (by default a user target gets them, so /dev/stdout opens)'
complete -c sudrop -n '__sudrop_at options' -l if-privileged -d 'Switch only if allowed to; otherwise run COMMAND as the caller (OpenShift\'s random uid)'
complete -c sudrop -n '__sudrop_at options' -l group-add -d 'Add these supplementary groups (names in /etc/group or ids); repeatable' -x -a '(__sudrop_comma_list (__sudrop_groups))'
complete -c sudrop -n '__sudrop_at options' -l group-of -d 'Add the group that owns PATH (e.g. /dev/dri/renderD128) as a supplementary group; repeatable' -r -F
complete -c sudrop -n '__sudrop_at options' -l umask -d 'Set the command\'s umask (octal, e.g. 027)' -x
complete -c sudrop -n '__sudrop_at options' -l ulimit -d 'Set a resource limit as docker run --ulimit does (nofile=65536, core=0, memlock=-1); repeatable' -x -a '(printf "%s=\n" as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack)'
complete -c sudrop -n '__sudrop_at options' -s i -l init -d 'Run COMMAND under a built-in init: reaper, signal forwarder, graceful drain'
complete -c sudrop -n '__sudrop_at options' -l single-child -d 'Forward signals to COMMAND alone, not to its whole process group'
complete -c sudrop -n '__sudrop_at options' -l rewrite -d 'Forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable' -x
complete -c sudrop -n '__sudrop_at options' -l remap-exit -d 'Exit with TO when COMMAND\'s status is FROM (e.g. 143:0; 143 alone is 143:0); repeatable' -x
complete -c sudrop -n '__sudrop_at options' -l grace -d 'Time leftovers get between SIGTERM and SIGKILL [default: 10s] (10, 0.5, 500ms, 1m)' -x
complete -c sudrop -n '__sudrop_at options' -l stop-delay -d 'Hold the first SIGTERM this long before forwarding it (endpoints drain meanwhile)' -x
complete -c sudrop -n '__sudrop_at options' -l pdeathsig -d 'Signal sudrop gets (and forwards) when its parent dies' -x -a 'HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO POLL PWR SYS'
complete -c sudrop -n '__sudrop_at options' -s v -l verbose -d 'Print the resolved identity and each step to stderr'
complete -c sudrop -n '__sudrop_at options' -s h -l help -d 'Print help'
complete -c sudrop -n '__sudrop_at options' -s V -l version -d 'Print version'
complete -c sudrop -n '__sudrop_at options spec' -x -a '(__sudrop_user_spec)'
complete -c sudrop -n '__sudrop_at command' -x -a '(__fish_complete_command)'
complete -c sudrop -n '__sudrop_at arguments' -x -a '(__sudrop_command_arguments)'

# Under other names (sudrop(1), OTHER NAMES).
complete -c gosu -f -n 'test (count (commandline -opc)) -eq 1' -a '(__sudrop_user_spec)'
complete -c gosu -f -n 'test (count (commandline -opc)) -ge 2' -a '(__fish_complete_subcommand --fcs-skip=2)'
complete -c su-exec -f -n 'test (count (commandline -opc)) -eq 1' -a '(__sudrop_user_spec)'
complete -c su-exec -f -n 'test (count (commandline -opc)) -ge 2' -a '(__fish_complete_subcommand --fcs-skip=2)'
complete -c tini -s h -d 'Print this help'
complete -c tini -s s -d 'Accepted; sudrop is a child subreaper whenever it is not PID 1'
complete -c tini -s p -x -d 'sudrop\'s --pdeathsig: Signal sudrop gets (and forwards) when its parent dies'
complete -c tini -s v -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c tini -s w -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c tini -s g -d 'Forward signals to COMMAND\'s process group, not COMMAND alone (sudrop\'s default)'
complete -c tini -s e -x -d 'sudrop\'s --remap-exit: Exit with TO when COMMAND\'s status is FROM (e.g. 143:0; 143 alone is 143:0); repeatable'
complete -c tini -s l -d 'Print the licence'
complete -c tini -f -a '(__fish_complete_subcommand)'
complete -c tini-static -s h -d 'Print this help'
complete -c tini-static -s s -d 'Accepted; sudrop is a child subreaper whenever it is not PID 1'
complete -c tini-static -s p -x -d 'sudrop\'s --pdeathsig: Signal sudrop gets (and forwards) when its parent dies'
complete -c tini-static -s v -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c tini-static -s w -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c tini-static -s g -d 'Forward signals to COMMAND\'s process group, not COMMAND alone (sudrop\'s default)'
complete -c tini-static -s e -x -d 'sudrop\'s --remap-exit: Exit with TO when COMMAND\'s status is FROM (e.g. 143:0; 143 alone is 143:0); repeatable'
complete -c tini-static -s l -d 'Print the licence'
complete -c tini-static -f -a '(__fish_complete_subcommand)'
complete -c docker-init -s h -d 'Print this help'
complete -c docker-init -s s -d 'Accepted; sudrop is a child subreaper whenever it is not PID 1'
complete -c docker-init -s p -x -d 'sudrop\'s --pdeathsig: Signal sudrop gets (and forwards) when its parent dies'
complete -c docker-init -s v -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c docker-init -s w -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c docker-init -s g -d 'Forward signals to COMMAND\'s process group, not COMMAND alone (sudrop\'s default)'
complete -c docker-init -s e -x -d 'sudrop\'s --remap-exit: Exit with TO when COMMAND\'s status is FROM (e.g. 143:0; 143 alone is 143:0); repeatable'
complete -c docker-init -s l -d 'Print the licence'
complete -c docker-init -f -a '(__fish_complete_subcommand)'
complete -c catatonit -s h -d 'Print this help'
complete -c catatonit -s g -d 'Forward signals to COMMAND\'s process group, not COMMAND alone (sudrop\'s default)'
complete -c catatonit -s L -d 'Print the licence'
complete -c catatonit -s P -d 'Refused: pause mode (-P) is not offered: sudrop always runs a command'
complete -c catatonit -s V -l version -d 'Print the version, in the form engines parse'
complete -c catatonit -f -a '(__fish_complete_subcommand)'
complete -c podman-init -s h -d 'Print this help'
complete -c podman-init -s g -d 'Forward signals to COMMAND\'s process group, not COMMAND alone (sudrop\'s default)'
complete -c podman-init -s L -d 'Print the licence'
complete -c podman-init -s P -d 'Refused: pause mode (-P) is not offered: sudrop always runs a command'
complete -c podman-init -s V -l version -d 'Print the version, in the form engines parse'
complete -c podman-init -f -a '(__fish_complete_subcommand)'
complete -c dumb-init -s h -l help -d 'Print this help'
complete -c dumb-init -s c -l single-child -d 'sudrop\'s --single-child: Forward signals to COMMAND alone, not to its whole process group'
complete -c dumb-init -s r -l rewrite -x -d 'sudrop\'s --rewrite: Forward signal FROM as TO (names or numbers; TO=0 drops it); repeatable'
complete -c dumb-init -s v -l verbose -d 'sudrop\'s --verbose: Print the resolved identity and each step to stderr'
complete -c dumb-init -s V -l version -d 'Print the version, in the form engines parse'
complete -c dumb-init -f -a '(__fish_complete_subcommand)'
