/**
 * `otactl completion bash|zsh`: a shell completion script generated from the commander command
 * tree itself, so every command, option and `.choices()` value `otactl --help` knows completes —
 * and nothing is listed by hand that could drift from it.
 *
 *   bash:  source <(otactl completion bash)        (or save it to ~/.local/share/bash-completion/completions/otactl)
 *   zsh:   source <(otactl completion zsh)         (or save it as _otactl on $fpath)
 */
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionNode {
  /** Space-separated command path below the program: '' (top level), 'product', 'product put'. */
  readonly path: string;
  readonly subcommands: readonly string[];
  /** Long (and short) option flags valid here, the program's global ones included. */
  readonly options: readonly string[];
  /** Options that take a value, with their allowed values ([] = free text). */
  readonly values: Readonly<Record<string, readonly string[]>>;
}

const visible = (c: Command): boolean => !(c as unknown as { _hidden?: boolean })._hidden;
const flagsOf = (o: Option): string[] => [o.long, o.short].filter((f): f is string => Boolean(f));

/** Every command of the tree with what may follow it. */
export function completionTree(program: Command, extraTopLevel: readonly string[] = []): CompletionNode[] {
  const globals = program.options.filter((o) => !o.hidden);
  const nodes: CompletionNode[] = [];
  const walk = (cmd: Command, path: string[], inherited: readonly Option[]) => {
    const own = cmd === program ? [] : cmd.options.filter((o) => !o.hidden);
    const opts = [...inherited, ...own];
    const values: Record<string, readonly string[]> = {};
    for (const o of opts) {
      if (!(o.required || o.optional)) continue;
      for (const f of flagsOf(o)) values[f] = o.argChoices ? [...o.argChoices] : [];
    }
    const subs = cmd.commands.filter(visible);
    // A leaf's first argument with .choices() (e.g. `completion <shell>`) completes like a subcommand.
    const argChoices = subs.length ? [] : [...(cmd.registeredArguments[0]?.argChoices ?? [])];
    nodes.push({
      path: path.join(' '),
      subcommands: [...subs.map((c) => c.name()), ...argChoices, ...(cmd === program ? ['help'] : [])],
      options: [...new Set([...opts.flatMap(flagsOf), '--help', ...(cmd === program ? extraTopLevel : [])])],
      values,
    });
    for (const sub of subs) walk(sub, [...path, sub.name()], opts);
  };
  walk(program, [], globals);
  return nodes;
}

const words = (xs: readonly string[]): string => xs.join(' ');
/** Single-quoted for the shell. */
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shared shell logic (POSIX-ish, runs in bash and zsh): walk the words typed so far, follow
 * subcommand names, skip option values, then offer the value choices of the previous option, or
 * this command's options (after a `-`), or its subcommands.
 */
function tables(name: string, nodes: readonly CompletionNode[]): string {
  const fn = `_${name}_data`;
  const lines: string[] = [];
  lines.push(`${fn}() {`, '  # $1 = subs|opts|takes|vals, $2 = command path, $3 = option (vals/takes)', '  case "$1|$2" in');
  for (const n of nodes) {
    lines.push(`    ${q(`subs|${n.path}`)}) echo ${q(words(n.subcommands))} ;;`);
    lines.push(`    ${q(`opts|${n.path}`)}) echo ${q(words(n.options))} ;;`);
    lines.push(`    ${q(`takes|${n.path}`)}) echo ${q(words(Object.keys(n.values)))} ;;`);
  }
  lines.push('  esac');
  lines.push('  if [ "$1" = vals ]; then', '    case "$2|$3" in');
  for (const n of nodes) {
    for (const [flag, choices] of Object.entries(n.values)) {
      if (choices.length) lines.push(`      ${q(`${n.path}|${flag}`)}) echo ${q(words(choices))} ;;`);
    }
  }
  lines.push('    esac', '  fi', '}');
  return lines.join('\n');
}

/** The completion script for `shell`, for the program `program` (named by `program.name()`). */
export function completionScript(shell: Shell, program: Command, extraTopLevel: readonly string[] = []): string {
  const name = program.name();
  const nodes = completionTree(program, extraTopLevel);
  const data = tables(name, nodes);
  // Outputs "<path>\n<mode>\n<arg>": mode vals (arg = option) | opts | subs.
  const resolver = `_${name}_resolve() {
  # "$@" = the words before the cursor (without the program name)
  local cmdpath="" w takes subs skip=0 prev=""
  for w in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; prev=""; continue; fi
    case "$w" in
      --*=*) prev="" ;;
      -*)
        takes=" $(_${name}_data takes "$cmdpath") "
        case "$takes" in *" $w "*) skip=1 ;; esac
        ;;
      *)
        subs=" $(_${name}_data subs "$cmdpath") "
        case "$subs" in *" $w "*) cmdpath="\${cmdpath:+$cmdpath }$w" ;; esac
        ;;
    esac
  done
  if [ "$skip" = 1 ]; then
    # The last word is an option waiting for its value.
    for w in "$@"; do prev="$w"; done
    echo "$cmdpath"; echo vals; echo "$prev"; return
  fi
  echo "$cmdpath"; echo words; echo ""
}`;
  if (shell === 'bash') {
    return `# bash completion for ${name} — generated by \`${name} completion bash\` from its command tree.
# Load it with:  source <(${name} completion bash)
${data}
${resolver}
_${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out cmdpath mode arg
  out="$(_${name}_resolve "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  cmdpath="$(printf '%s\\n' "$out" | sed -n 1p)"; mode="$(printf '%s\\n' "$out" | sed -n 2p)"; arg="$(printf '%s\\n' "$out" | sed -n 3p)"
  if [ "$mode" = vals ]; then
    COMPREPLY=( $(compgen -W "$(_${name}_data vals "$cmdpath" "$arg")" -- "$cur") )
    [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
    return 0
  fi
  case "$cur" in
    -*) COMPREPLY=( $(compgen -W "$(_${name}_data opts "$cmdpath")" -- "$cur") ) ;;
    *)
      COMPREPLY=( $(compgen -W "$(_${name}_data subs "$cmdpath")" -- "$cur") )
      [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
      ;;
  esac
  return 0
}
complete -o default -F _${name} ${name}
`;
  }
  return `#compdef ${name}
# zsh completion for ${name} — generated by \`${name} completion zsh\` from its command tree.
# Load it with:  source <(${name} completion zsh)   (or save it as _${name} in a directory on $fpath)
${data}
${resolver}
_${name}() {
  local out cmdpath mode arg cur="\${words[CURRENT]}"
  out="$(_${name}_resolve "\${(@)words[2,CURRENT-1]}")"
  local -a lines; lines=("\${(@f)out}")
  cmdpath="\${lines[1]}"; mode="\${lines[2]}"; arg="\${lines[3]}"
  local -a choices
  if [[ "$mode" == vals ]]; then
    choices=(\${=$(_${name}_data vals "$cmdpath" "$arg")})
    if (( \${#choices} )); then compadd -- $choices; else _files; fi
    return
  fi
  if [[ "$cur" == -* ]]; then
    choices=(\${=$(_${name}_data opts "$cmdpath")})
    compadd -- $choices
  else
    choices=(\${=$(_${name}_data subs "$cmdpath")})
    if (( \${#choices} )); then compadd -- $choices; else _files; fi
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _${name} "$@"
else
  compdef _${name} ${name}
fi
`;
}
