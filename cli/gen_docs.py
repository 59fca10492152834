"""Writes memalot's shell completions and man page from its own help texts
(whose options of attach and run come from the engine's option table).

usage: gen_docs.py MEMALOT OUTDIR
  OUTDIR/memalot.bash  bash completion (share/bash-completion/completions/memalot)
  OUTDIR/_memalot      zsh completion (share/zsh/site-functions/_memalot), through bashcompinit
  OUTDIR/memalot.1     the man page memalot(1)
"""

import os
import re
import subprocess
import sys


def help_of(memalot, *args):
    return subprocess.run([memalot, *args, "--help"], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout


def commands(top):
    """(name, summary) of each subcommand, from 'memalot --help'."""
    out, inside = [], False
    for line in top.splitlines():
        if line.startswith("commands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)\s+(.*)$", line)
            if not m:
                break
            out.append((m.group(1), m.group(2)))
    return out


def options(text):
    """The long and short options a help text lists, in order."""
    seen = []
    for opt in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b", text):
        if opt not in seen:
            seen.append(opt)
    return seen


# options whose value is a file or directory (completed as such)
_FILES = {"--output", "--graph", "--report-directory", "--html"}


def bash(cmds, opts):
    lines = [
        "# bash completion for memalot (made by cli/gen_docs.py from memalot's help; do not edit)",
        "_memalot() {",
        "\tlocal cur prev cmd opts",
        "\tcur=${COMP_WORDS[COMP_CWORD]}",
        "\tprev=${COMP_WORDS[COMP_CWORD-1]}",
        "\tif [ \"$COMP_CWORD\" -eq 1 ]; then",
        "\t\tCOMPREPLY=($(compgen -W '%s --help --version' -- \"$cur\"))" % " ".join(c for c, _ in cmds),
        "\t\treturn",
        "\tfi",
        "\tcmd=${COMP_WORDS[1]}",
        "\tcase $prev in",
        "\t%s)" % "|".join(sorted(_FILES)),
        "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))",
        "\t\treturn;;",
        "\tesac",
        "\tcase $cmd in",
    ]
    for c, _ in cmds:
        lines.append("\t%s) opts='%s';;" % (c, " ".join(opts[c])))
    lines += [
        "\t*) return;;",
        "\tesac",
        "\tif [[ $cur == -* ]]; then",
        "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))",
        "\telif [ \"$cmd\" = attach ] || [ \"$cmd\" = snapshot ]; then",
        "\t\t# the pids of Python processes",
        "\t\tCOMPREPLY=($(compgen -W \"$(pgrep -d ' ' -f '[p]ython' 2>/dev/null)\" -- \"$cur\"))",
        "\telif [ \"$cmd\" = print ]; then",
        "\t\t# the saved reports' IDs (of the --report-directory given on the line), and latest",
        "\t\tlocal i dir=",
        "\t\tfor ((i = 2; i < COMP_CWORD; i++)); do",
        "\t\t\t[ \"${COMP_WORDS[i]}\" = --report-directory ] && dir=${COMP_WORDS[i+1]}",
        "\t\tdone",
        "\t\tCOMPREPLY=($(compgen -W \"latest $(memalot list --num-reports 0 ${dir:+--report-directory \"$dir\"} "
        "2>/dev/null | awk 'NR > 1 { print $1 }')\" -- \"$cur\"))",
        "\telif [ \"$cmd\" = run ]; then",
        "\t\tCOMPREPLY=($(compgen -c -- \"$cur\"))",
        "\tfi",
        "}",
        "complete -F _memalot memalot",
        "",
    ]
    return "\n".join(lines)


def zsh(bash_text):
    return ("#compdef memalot\n# zsh completion for memalot: the bash completion through bashcompinit "
            "(made by cli/gen_docs.py; do not edit)\nautoload -U +X bashcompinit && bashcompinit\n"
            + bash_text.split("\n", 1)[1])


def roff(text):
    out = []
    for line in text.splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def man(memalot, top, cmds, helps, version):
    parts = [
        '.TH MEMALOT 1 "" "memalot %s" "User Commands"' % version,
        ".SH NAME",
        "memalot \\- find memory leaks in running Python programs, from outside the process",
        ".SH SYNOPSIS",
        ".B memalot",
        "[\\-\\-version] [\\-\\-help]",
        ".I command",
        "[\\fIargs\\fR]",
        ".SH DESCRIPTION",
        "memalot attaches to a CPython 3.8\\(en3.15 process with ptrace, reads its memory with",
        "process_vm_readv, and reports the objects that outlive a lifetime, what holds them",
        "and how much memory they keep. It runs no code in the target and leaves it running.",
        "Every command takes \\-h/\\-\\-help, \\-v/\\-q and \\-\\-no\\-color/\\-\\-force\\-terminal.",
        ".SH COMMANDS",
    ]
    for c, summary in cmds:
        parts += [".SS %s" % c, roff(summary), ".PP", ".nf", roff(helps[c].rstrip()), ".fi"]
    parts += [
        ".SH EXIT STATUS",
        "0 done, 1 an error, 2 a usage error, 3 no such process, 4 not allowed to trace, 5 already traced,",
        "6 not Python, 7 unsupported Python, 8 the target exited, 9 a partial result, 10 leaks",
        "(\\-\\-fail\\-on\\-leak), 130 interrupted.",
        ".SH ENVIRONMENT",
        ".TP",
        ".B MEMALOT_REPORT_DIRECTORY",
        "where reports are saved and read (default ~/.memalot/reports)",
        ".TP",
        ".B NO_COLOR",
        "no colour in the text reports",
        ".TP",
        ".B MEMALOT_TABLES",
        "offset tables to use instead of the built-in ones",
        ".SH SEE ALSO",
        "The Python package: import memalot (docs/python-api.md); the report format: docs/report-format.md.",
        "",
    ]
    return "\n".join(parts)


def main():
    memalot, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    top = subprocess.run([memalot, "--help"], check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    version = subprocess.run([memalot, "--version"], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.split()[-1]
    cmds = commands(top)
    helps = {c: help_of(memalot, c) for c, _ in cmds}
    opts = {c: options(helps[c]) for c, _ in cmds}
    b = bash(cmds, opts)
    files = {"memalot.bash": b, "_memalot": zsh(b), "memalot.1": man(memalot, top, cmds, helps, version)}
    for name, text in files.items():
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(outdir, name))


if __name__ == "__main__":
    main()
