# bash completion for sudrop                                -*- shell-script -*-
# Made by `cargo xtask docs` from sudrop's command-line definition: do not edit.

# bash splits words at ':' and '=' (COMP_WORDBREAKS); in sudrop's words they belong
# (root:staff, --grace=5s). Rejoins the pieces that no blank separates into the caller's
# _sudrop_words, with the index in COMP_WORDS where each starts (_sudrop_starts) and the
# cursor's word (_sudrop_cword).
_sudrop_rejoin()
{
    local k pos=0 n=-1 blank
    _sudrop_words=() _sudrop_starts=() _sudrop_cword=0
    for ((k = 0; k < ${#COMP_WORDS[@]}; k++)); do
        blank=0
        while [[ ${COMP_LINE:pos:1} == [[:blank:]] ]]; do
            pos=$((pos + 1)) blank=1
        done
        if ((k == 0 || blank)); then
            n=$((n + 1))
            _sudrop_words[n]=${COMP_WORDS[k]}
            _sudrop_starts[n]=$k
        else
            _sudrop_words[n]+=${COMP_WORDS[k]}
        fi
        pos=$((pos + ${#COMP_WORDS[k]}))
        if ((k == COMP_CWORD)); then
            _sudrop_cword=$n
        fi
    done
}

# Completes option $1's value $2 (its last element, where the value is a comma list).
_sudrop_value()
{
    local head=${2%"${2##*,}"} last=${2##*,}
    case $1 in
        --keep-cap) COMPREPLY=($(compgen -P "$head" -W 'CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE' -- "$last")) ;;
        --group-add) COMPREPLY=($(compgen -P "$head" -g -- "$last")) ;;
        --group-of) COMPREPLY=($(compgen -f -- "$2")) ;;
        --ulimit) COMPREPLY=($(compgen -S = -W 'as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack' -- "$2")) && compopt -o nospace ;;
        --pdeathsig) COMPREPLY=($(compgen -W 'HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO POLL PWR SYS' -- "$2")) ;;
    esac
}

_sudrop()
{
    local -a _sudrop_words _sudrop_starts
    local _sudrop_cword cur word want= options_done= i
    _sudrop_rejoin
    cur=${_sudrop_words[_sudrop_cword]}
    # Options come only before USER-SPEC (and before --): find USER-SPEC.
    for ((i = 1; i < _sudrop_cword; i++)); do
        word=${_sudrop_words[i]}
        if [[ -n $want ]]; then
            want=
        elif [[ -n $options_done ]]; then
            break
        else
            case $word in
                --) options_done=1 ;;
                --keep-cap | --group-add | --group-of | --umask | --ulimit | --rewrite | --remap-exit | --grace | --stop-delay | --pdeathsig) want=$word ;;
                -) break ;;
                -*) ;;
                *) break ;;
            esac
        fi
    done
    if ((i < _sudrop_cword)); then
        # Word i is USER-SPEC: COMMAND follows, then COMMAND's own arguments.
        if declare -F _command_offset >/dev/null; then
            _command_offset "${_sudrop_starts[i + 1]}"
        elif ((_sudrop_cword == i + 1)); then
            COMPREPLY=($(compgen -c -- "$cur"))
        else
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        return
    fi
    if [[ -n $want ]]; then
        _sudrop_value "$want" "$cur"
    elif [[ -z $options_done && $cur == --*=* ]]; then
        _sudrop_value "${cur%%=*}" "${cur#*=}"
        COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
    elif [[ -z $options_done && $cur == -* ]]; then
        COMPREPLY=($(compgen -W '--keep-cap --no-new-privs --allow-new-privs --keep-stdio-owner --if-privileged --group-add --group-of --umask --ulimit -i --init --single-child --rewrite --remap-exit --grace --stop-delay --pdeathsig -v --verbose -h --help -V --version' -- "$cur"))
    elif [[ $cur == /* ]]; then
        # USER-SPEC as a path: its owner.
        COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $cur == *:* ]]; then
        COMPREPLY=($(compgen -P "${cur%%:*}:" -g -- "${cur#*:}"))
    else
        COMPREPLY=($(compgen -u -- "$cur"))
    fi
    # bash replaces only the cursor's piece of the word (after its last ':' or '='): drop
    # what comes before that piece.
    local before=${cur%"${COMP_WORDS[COMP_CWORD]}"}
    if [[ -n $before ]]; then
        COMPREPLY=("${COMPREPLY[@]#"$before"}")
    fi
}
complete -F _sudrop sudrop

# sudrop under other names (sudrop(1), OTHER NAMES). An init's command line: its flags ($1;
# those taking a value in $2) until -- or the first operand, which is COMMAND.
_sudrop_as_init()
{
    local flags=$1 valued=" $2 " cur=${COMP_WORDS[COMP_CWORD]} i word done=
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            --) done=1 i=$((i + 1)); break ;;
            -*) [[ $valued == *" $word "* ]] && i=$((i + 1)) ;;
            *) break ;;
        esac
    done
    if ((i > COMP_CWORD)); then
        return # the cursor is on a flag's value
    elif [[ -z $done && $i -eq $COMP_CWORD && $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif declare -F _command_offset >/dev/null; then
        _command_offset "$i"
    elif ((i == COMP_CWORD)); then
        COMPREPLY=($(compgen -c -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
_sudrop_as_gosu() { _sudrop "$@"; }
complete -F _sudrop_as_gosu gosu
_sudrop_as_su_exec() { _sudrop "$@"; }
complete -F _sudrop_as_su_exec su-exec
_sudrop_as_tini() { _sudrop_as_init '-h -s -p -v -w -g -e -l' '-p -e'; }
complete -F _sudrop_as_tini tini tini-static docker-init
_sudrop_as_catatonit() { _sudrop_as_init '-h -g -L -P -V --version' ''; }
complete -F _sudrop_as_catatonit catatonit podman-init
_sudrop_as_dumb_init() { _sudrop_as_init '-h --help -c --single-child -r --rewrite -v --verbose -V --version' '-r --rewrite'; }
complete -F _sudrop_as_dumb_init dumb-init
