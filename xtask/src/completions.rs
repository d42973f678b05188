//! The bash, zsh and fish completions, written from sudrop's clap definition.
//!
//! clap_complete's scripts know sudrop's options but not its grammar: options end at
//! USER-SPEC, USER-SPEC is a user name with an optional `:group`, and COMMAND is a command
//! whose own arguments come after it (completed as that command's, never as sudrop's). The
//! shell logic for that grammar is fixed text below; the option lists, help texts and value
//! words come from the definition and sudrop's own tables, so they cannot drift.

use clap::{Arg, ArgAction};

/// How an option's value is completed: said by its row.
use sudrop::cli::options::Completion as Values;

/// One option of the definition.
struct Flag {
    long: String,
    short: Option<char>,
    help: String,
    values: Option<Values>,
    repeatable: bool,
}

/// How the value of the option named `long` completes, from its row.
fn values_of(long: &str) -> Result<Values, String> {
    sudrop::cli::ROWS
        .iter()
        .find(|row| row.long == long)
        .and_then(|row| row.value)
        .map(|value| value.completes)
        .ok_or_else(|| format!("--{long}: no row says how its value completes"))
}

fn flags() -> Result<Vec<Flag>, String> {
    let command = sudrop::cli::command();
    let mut flags = Vec::new();
    for arg in command.get_arguments().filter(|a| !a.is_positional()) {
        let long = arg
            .get_long()
            .ok_or_else(|| format!("{}: every option has a long name", arg.get_id()))?;
        let takes_value = arg.get_action().takes_values();
        flags.push(Flag {
            long: format!("--{long}"),
            short: arg.get_short(),
            help: help_of(arg),
            values: if takes_value {
                Some(values_of(long)?)
            } else {
                None
            },
            repeatable: matches!(arg.get_action(), ArgAction::Append),
        });
    }
    // clap adds these two itself.
    for (long, short, help) in [
        ("--help", 'h', "Print help"),
        ("--version", 'V', "Print version"),
    ] {
        if !flags.iter().any(|f| f.long == long) {
            flags.push(Flag {
                long: long.into(),
                short: Some(short),
                help: help.into(),
                values: None,
                repeatable: false,
            });
        }
    }
    Ok(flags)
}

/// The long names of the options whose value is the next word.
fn longs_taking_a_value(flags: &[Flag]) -> Vec<&str> {
    flags
        .iter()
        .filter(|f| f.values.is_some())
        .map(|f| f.long.as_str())
        .collect()
}

fn help_of(arg: &Arg) -> String {
    arg.get_help().map(|h| h.to_string()).unwrap_or_default()
}

fn words(names: impl Iterator<Item = &'static str>) -> String {
    names.collect::<Vec<_>>().join(" ")
}

fn capabilities() -> String {
    words(sudrop::capability::NAMES.iter().copied())
}

fn signals() -> String {
    words(sudrop::signals::names())
}

fn resources() -> String {
    words(sudrop::limits::resource_names())
}

/// The three scripts: (file name, contents).
pub fn scripts() -> Result<Vec<(&'static str, String)>, String> {
    let flags = flags()?;
    Ok(vec![
        ("sudrop.bash", bash(&flags)),
        ("_sudrop", zsh(&flags)),
        ("sudrop.fish", fish(&flags)),
    ])
}

const HEADER: &str =
    "Made by `cargo xtask docs` from sudrop's command-line definition: do not edit.";

fn bash(flags: &[Flag]) -> String {
    let all: Vec<String> = flags
        .iter()
        .flat_map(|f| {
            f.short
                .map(|s| format!("-{s}"))
                .into_iter()
                .chain([f.long.clone()])
        })
        .collect();
    let with_value = longs_taking_a_value(flags);
    let mut cases = String::new();
    for flag in flags {
        let action = match flag.values {
            None | Some(Values::Typed) => continue,
            Some(Values::Capabilities) => format!(
                "COMPREPLY=($(compgen -P \"$head\" -W '{}' -- \"$last\"))",
                capabilities()
            ),
            Some(Values::Groups) => "COMPREPLY=($(compgen -P \"$head\" -g -- \"$last\"))".into(),
            Some(Values::Path) => "COMPREPLY=($(compgen -f -- \"$2\"))".into(),
            Some(Values::Signal) => format!("COMPREPLY=($(compgen -W '{}' -- \"$2\"))", signals()),
            Some(Values::Resource) => format!(
                "COMPREPLY=($(compgen -S = -W '{}' -- \"$2\")) && compopt -o nospace",
                resources()
            ),
        };
        cases.push_str(&format!("        {}) {action} ;;\n", flag.long));
    }
    format!(
        r#"# bash completion for sudrop                                -*- shell-script -*-
# {HEADER}

# bash splits words at ':' and '=' (COMP_WORDBREAKS); in sudrop's words they belong
# (root:staff, --grace=5s). Rejoins the pieces that no blank separates into the caller's
# _sudrop_words, with the index in COMP_WORDS where each starts (_sudrop_starts) and the
# cursor's word (_sudrop_cword).
_sudrop_rejoin()
{{
    local k pos=0 n=-1 blank
    _sudrop_words=() _sudrop_starts=() _sudrop_cword=0
    for ((k = 0; k < ${{#COMP_WORDS[@]}}; k++)); do
        blank=0
        while [[ ${{COMP_LINE:pos:1}} == [[:blank:]] ]]; do
            pos=$((pos + 1)) blank=1
        done
        if ((k == 0 || blank)); then
            n=$((n + 1))
            _sudrop_words[n]=${{COMP_WORDS[k]}}
            _sudrop_starts[n]=$k
        else
            _sudrop_words[n]+=${{COMP_WORDS[k]}}
        fi
        pos=$((pos + ${{#COMP_WORDS[k]}}))
        if ((k == COMP_CWORD)); then
            _sudrop_cword=$n
        fi
    done
}}

# Completes option $1's value $2 (its last element, where the value is a comma list).
_sudrop_value()
{{
    local head=${{2%"${{2##*,}}"}} last=${{2##*,}}
    case $1 in
{cases}    esac
}}

_sudrop()
{{
    local -a _sudrop_words _sudrop_starts
    local _sudrop_cword cur word want= options_done= i
    _sudrop_rejoin
    cur=${{_sudrop_words[_sudrop_cword]}}
    # Options come only before USER-SPEC (and before --): find USER-SPEC.
    for ((i = 1; i < _sudrop_cword; i++)); do
        word=${{_sudrop_words[i]}}
        if [[ -n $want ]]; then
            want=
        elif [[ -n $options_done ]]; then
            break
        else
            case $word in
                --) options_done=1 ;;
                {with_value}) want=$word ;;
                -) break ;;
                -*) ;;
                *) break ;;
            esac
        fi
    done
    if ((i < _sudrop_cword)); then
        # Word i is USER-SPEC: COMMAND follows, then COMMAND's own arguments.
        if declare -F _command_offset >/dev/null; then
            _command_offset "${{_sudrop_starts[i + 1]}}"
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
        _sudrop_value "${{cur%%=*}}" "${{cur#*=}}"
        COMPREPLY=("${{COMPREPLY[@]/#/${{cur%%=*}}=}}")
    elif [[ -z $options_done && $cur == -* ]]; then
        COMPREPLY=($(compgen -W '{all}' -- "$cur"))
    elif [[ $cur == /* ]]; then
        # USER-SPEC as a path: its owner.
        COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $cur == *:* ]]; then
        COMPREPLY=($(compgen -P "${{cur%%:*}}:" -g -- "${{cur#*:}}"))
    else
        COMPREPLY=($(compgen -u -- "$cur"))
    fi
    # bash replaces only the cursor's piece of the word (after its last ':' or '='): drop
    # what comes before that piece.
    local before=${{cur%"${{COMP_WORDS[COMP_CWORD]}}"}}
    if [[ -n $before ]]; then
        COMPREPLY=("${{COMPREPLY[@]#"$before"}}")
    fi
}}
complete -F _sudrop sudrop
{personalities}"#,
        with_value = with_value.join(" | "),
        all = all.join(" "),
        personalities = bash_personalities(),
    )
}

/// Completion under the other names sudrop answers to (`sudrop::cli::personality`): gosu's
/// and su-exec's grammar is sudrop's without options; each init's flags come from its table.
fn bash_personalities() -> String {
    use sudrop::cli::personality::GRAMMARS;
    let mut text = String::from(
        r#"
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
"#,
    );
    for grammar in &GRAMMARS {
        let names = grammar.names();
        let function = format!("_sudrop_as_{}", grammar.name.replace('-', "_"));
        if !grammar.init {
            text.push_str(&format!(
                "{function}() {{ _sudrop \"$@\"; }}\ncomplete -F {function} {}\n",
                names.join(" ")
            ));
            continue;
        }
        let spelled = |flag: &sudrop::cli::personality::Flag| {
            flag.short
                .map(|letter| format!("-{}", char::from(letter)))
                .into_iter()
                .chain(flag.long.map(|long| format!("--{long}")))
                .collect::<Vec<_>>()
        };
        let flags: Vec<String> = grammar.flags.iter().flat_map(spelled).collect();
        let valued: Vec<String> = grammar
            .flags
            .iter()
            .filter(|flag| flag.value.is_some())
            .flat_map(spelled)
            .collect();
        text.push_str(&format!(
            "{function}() {{ _sudrop_as_init '{}' '{}'; }}\ncomplete -F {function} {}\n",
            flags.join(" "),
            valued.join(" "),
            names.join(" ")
        ));
    }
    text
}

/// Quotes `text` for zsh's `_arguments` help brackets inside a single-quoted word.
fn zsh_help(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            '[' | ']' | ':' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn zsh(flags: &[Flag]) -> String {
    let mut specs = String::new();
    for flag in flags {
        let help = zsh_help(&flag.help);
        let value = match flag.values {
            None => String::new(),
            Some(Values::Capabilities) => {
                format!(":capabilities:_sequence compadd - {}", capabilities())
            }
            Some(Values::Groups) => ":groups:_sequence _groups".into(),
            Some(Values::Path) => ":path:_files".into(),
            Some(Values::Signal) => format!(":signal:({})", signals()),
            Some(Values::Resource) => ":limit:_sudrop_resource".into(),
            Some(Values::Typed) => ": :".into(),
        };
        let eq = if flag.values.is_some() { "=" } else { "" };
        let star = if flag.repeatable { "*" } else { "" };
        match flag.short {
            Some(short) if flag.repeatable => specs.push_str(&format!(
                "    '*-{short}{eq}[{help}]{value}' '*{}{eq}[{help}]{value}' \\\n",
                flag.long
            )),
            Some(short) => specs.push_str(&format!(
                "    '(-{short} {long})'{{-{short},{long}}}'{eq}[{help}]{value}' \\\n",
                long = flag.long
            )),
            None => specs.push_str(&format!(
                "    '{star}{}{eq}[{help}]{value}' \\\n",
                flag.long
            )),
        }
    }
    format!(
        r#"#compdef sudrop {names}
# zsh completion for sudrop
# {HEADER}

# USER-SPEC: a user name, or after a colon a group name.
(( $+functions[_sudrop_user_spec] )) ||
_sudrop_user_spec() {{
  if compset -P '*:'; then
    _groups
  else
    _users
  fi
}}

(( $+functions[_sudrop_resource] )) ||
_sudrop_resource() {{
  compadd -S = -- {resources}
}}

# Options end at USER-SPEC (-A); from COMMAND on, the words are COMMAND's (_normal).
_sudrop() {{
  # Under another tool's name, that tool's command line (sudrop(1), OTHER NAMES).
  case $service in
{personalities}  esac
  _arguments -s -S -A '-*' \
{specs}    '1:user spec:_sudrop_user_spec' \
    '*::command:_normal'
}}

_sudrop "$@"
"#,
        resources = resources(),
        names = zsh_names(),
        personalities = zsh_personalities(),
    )
}

/// Every other name sudrop answers to, for `#compdef`.
fn zsh_names() -> String {
    sudrop::cli::personality::NAMES
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One `case` arm per grammar: the droppers' USER-SPEC then COMMAND; each init's flags from
/// its table (described by the rows they mean), then COMMAND.
fn zsh_personalities() -> String {
    use sudrop::cli::personality::{GRAMMARS, describe};
    let mut arms = String::new();
    for grammar in &GRAMMARS {
        let mut specs = String::new();
        if grammar.init {
            for flag in grammar.flags {
                let help = zsh_help(&describe(flag.means));
                let value = if flag.value.is_some() { ": :" } else { "" };
                for spelled in flag
                    .short
                    .map(|letter| format!("-{}", char::from(letter)))
                    .into_iter()
                    .chain(flag.long.map(|long| format!("--{long}")))
                {
                    specs.push_str(&format!("'{spelled}[{help}]{value}' "));
                }
            }
            specs.push_str("'*::command:_normal'");
        } else {
            specs.push_str("'1:user spec:_sudrop_user_spec' '*::command:_normal'");
        }
        arms.push_str(&format!(
            "    ({}) _arguments -s -S {specs}; return ;;\n",
            grammar.names().join("|")
        ));
    }
    arms
}

/// Quotes `text` as a fish single-quoted string.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn fish(flags: &[Flag]) -> String {
    let with_value = longs_taking_a_value(flags);
    let mut lines = String::new();
    for flag in flags {
        let mut line = String::from("complete -c sudrop -n '__sudrop_at options'");
        if let Some(short) = flag.short {
            line.push_str(&format!(" -s {short}"));
        }
        line.push_str(&format!(" -l {}", flag.long.trim_start_matches("--")));
        line.push_str(&format!(" -d {}", fish_quote(&flag.help)));
        match flag.values {
            None => {}
            Some(Values::Capabilities) => line.push_str(&format!(
                " -x -a '(__sudrop_comma_list {})'",
                capabilities()
            )),
            Some(Values::Groups) => {
                line.push_str(" -x -a '(__sudrop_comma_list (__sudrop_groups))'")
            }
            Some(Values::Path) => line.push_str(" -r -F"),
            Some(Values::Signal) => line.push_str(&format!(" -x -a '{}'", signals())),
            Some(Values::Resource) => {
                line.push_str(&format!(" -x -a '(printf \"%s=\\n\" {})'", resources()))
            }
            Some(Values::Typed) => line.push_str(" -x"),
        }
        lines.push_str(&line);
        lines.push('\n');
    }
    format!(
        r#"# fish completion for sudrop
# {HEADER}

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
                case {with_value}
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
{lines}complete -c sudrop -n '__sudrop_at options spec' -x -a '(__sudrop_user_spec)'
complete -c sudrop -n '__sudrop_at command' -x -a '(__fish_complete_command)'
complete -c sudrop -n '__sudrop_at arguments' -x -a '(__sudrop_command_arguments)'
{personalities}"#,
        with_value = with_value.join(" "),
        personalities = fish_personalities(),
    )
}

/// fish completion under the other names sudrop answers to: the droppers' USER-SPEC then
/// COMMAND, each init's flags from its table (described by the rows they mean), then COMMAND.
fn fish_personalities() -> String {
    use sudrop::cli::personality::{GRAMMARS, describe};
    let mut text = String::from("\n# Under other names (sudrop(1), OTHER NAMES).\n");
    for grammar in &GRAMMARS {
        for name in grammar.names() {
            if !grammar.init {
                text.push_str(&format!(
                    "complete -c {name} -f -n 'test (count (commandline -opc)) -eq 1' -a \
                     '(__sudrop_user_spec)'\n\
                     complete -c {name} -f -n 'test (count (commandline -opc)) -ge 2' -a \
                     '(__fish_complete_subcommand --fcs-skip=2)'\n"
                ));
                continue;
            }
            for flag in grammar.flags {
                let mut line = format!("complete -c {name}");
                if let Some(letter) = flag.short {
                    line.push_str(&format!(" -s {}", char::from(letter)));
                }
                if let Some(long) = flag.long {
                    line.push_str(&format!(" -l {long}"));
                }
                if flag.value.is_some() {
                    line.push_str(" -x");
                }
                line.push_str(&format!(" -d {}\n", fish_quote(&describe(flag.means))));
                text.push_str(&line);
            }
            text.push_str(&format!(
                "complete -c {name} -f -a '(__fish_complete_subcommand)'\n"
            ));
        }
    }
    text
}
