package main

import (
	"fmt"
	"strings"

	"github.com/ecoute/ecoute/internal/i18n"
	"github.com/ecoute/ecoute/themes"
	"github.com/ecoute/ecoute/tui"
)

// completionUsage is ecoute completion's help.
func completionUsage() string { return T("ecoute.completionUsage") }

// The commands and the flags each takes; the scripts are generated from
// these so they follow the help.
var (
	completionCommands = []string{"connect", "demo", "play", "listen", "config", "completion", "help"}
	completionFlags    = map[string][]string{
		"connect":    {"--server", "--insecure", "--theme", "--pin-file", "--silent", "--config", "--login", "--lang", "--help"},
		"demo":       {"--data", "--as", "--theme", "--silent", "--lang", "--help"},
		"play":       {"--speed", "--start", "--no-tui", "--silent", "--mute-party", "--balance", "--lang", "--help"},
		"listen":     {"--server", "--insecure", "--pin-file", "--login", "--silent", "--config", "--lang", "--help"},
		"config":     {"--help"},
		"completion": {"bash", "zsh", "fish"},
		"help":       {"connect", "demo", "play", "listen", "config", "completion"},
	}
	demoRoles = []string{"supervisor", "trainer", "agent", "hr", "client", "maintenance", "dpo", "admin"}
)

func runCompletion(args []string) error {
	if len(args) != 1 {
		return usageError(T("ecoute.giveOneShell"), completionUsage())
	}
	switch args[0] {
	case "bash":
		fmt.Print(bashCompletion())
	case "zsh":
		fmt.Print(zshCompletion())
	case "fish":
		fmt.Print(fishCompletion())
	case "-h", "--help", "-help":
		fmt.Print(completionUsage())
	default:
		return usageError(T("ecoute.unknownShell", args[0]), completionUsage())
	}
	return nil
}

func bashCompletion() string {
	var cases strings.Builder
	for _, c := range completionCommands {
		fmt.Fprintf(&cases, "    %s) opts=%q ;;\n", c, strings.Join(completionFlags[c], " "))
	}
	// i18n: shell code, not prose (the next literal).
	return fmt.Sprintf(`# bash completion for ecoute
_ecoute() {
  local cur prev cmd opts
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    --theme) COMPREPLY=( $(compgen -W %q -- "$cur") ); return ;;
    --as) COMPREPLY=( $(compgen -W %q -- "$cur") ); return ;;
    --pin-file|--config|--data) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    --server|--login) return ;;
  esac
  cmd=connect
  if [ "$COMP_CWORD" -gt 1 ]; then cmd="${COMP_WORDS[1]}"; fi
  case "$cmd" in
%s    play) COMPREPLY=( $(compgen -f -X '!*.mp3' -- "$cur") $(compgen -d -- "$cur") $(compgen -W %q -- "$cur") ); return ;;
    *) opts="${_ecoute_connect}" ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then opts="%s $opts"; fi
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
_ecoute_connect=%q
complete -F _ecoute ecoute
`, strings.Join(themes.Names(), " "), strings.Join(demoRoles, " "), cases.String(), strings.Join(completionFlags["play"], " "),
		strings.Join(completionCommands, " "), strings.Join(completionFlags["connect"], " "))
}

func zshCompletion() string {
	var b strings.Builder
	b.WriteString("#compdef ecoute\n# zsh completion for ecoute\n_ecoute() {\n  local -a commands\n  commands=(\n") // i18n: shell code, not prose
	for _, c := range completionCommands {
		fmt.Fprintf(&b, "    %q\n", c)
	}
	b.WriteString("  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' commands\n  fi\n") // i18n: shell code, not prose
	fmt.Fprintf(&b, "  case $words[CURRENT-1] in\n    --theme) compadd %s; return ;;\n    --as) compadd %s; return ;;\n    --pin-file|--config|--data) _files; return ;;\n  esac\n",
		strings.Join(themes.Names(), " "), strings.Join(demoRoles, " "))
	b.WriteString("  case $words[2] in\n")
	for _, c := range completionCommands {
		fmt.Fprintf(&b, "    %s) compadd -- %s ;;\n", c, strings.Join(completionFlags[c], " "))
	}
	fmt.Fprintf(&b, "    *) compadd -- %s ;;\n  esac\n  [[ $words[2] == play ]] && _files -g '*.mp3'\n}\ncompdef _ecoute ecoute\n", strings.Join(completionFlags["connect"], " ")) // i18n: shell code, not prose
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# fish completion for ecoute\ncomplete -c ecoute -f\n") // i18n: shell code, not prose
	fmt.Fprintf(&b, "complete -c ecoute -n __fish_use_subcommand -a %q\n", strings.Join(completionCommands, " "))
	for _, c := range completionCommands {
		for _, f := range completionFlags[c] {
			if strings.HasPrefix(f, "--") {
				fmt.Fprintf(&b, "complete -c ecoute -n '__fish_seen_subcommand_from %s' -l %s\n", c, strings.TrimPrefix(f, "--"))
			} else {
				fmt.Fprintf(&b, "complete -c ecoute -n '__fish_seen_subcommand_from %s' -a %s\n", c, f)
			}
		}
	}
	for _, f := range completionFlags["connect"] {
		fmt.Fprintf(&b, "complete -c ecoute -n __fish_use_subcommand -l %s\n", strings.TrimPrefix(f, "--"))
	}
	fmt.Fprintf(&b, "complete -c ecoute -l theme -x -a %q\n", strings.Join(themes.Names(), " "))
	fmt.Fprintf(&b, "complete -c ecoute -l as -x -a %q\n", strings.Join(demoRoles, " "))
	b.WriteString("complete -c ecoute -l pin-file -r -F\ncomplete -c ecoute -l config -r -F\ncomplete -c ecoute -l data -r -F\n")
	b.WriteString("complete -c ecoute -n '__fish_seen_subcommand_from play' -F\n") // i18n: shell code, not prose
	return b.String()
}

// configUsage is ecoute config's help.
func configUsage() string { return T("ecoute.configUsage") }

func runConfig(args []string) error {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Print(configUsage())
			return nil
		}
		return usageError(T("ecoute.unexpectedArg", args[0]), configUsage())
	}
	fmt.Printf("%s\n\n", T("ecoute.settingsFile", configPathHint()))
	fmt.Print(T("ecoute.configExample", strings.Join(themes.Names(), ", ")))
	fmt.Println("\n" + T("ecoute.keyActions"))
	for _, a := range tui.KeyActions(i18n.New(lang)) {
		fmt.Printf("  %-18s %-22s %s\n", a.Name, strings.Join(a.Keys, ", "), a.Desc)
	}
	return nil
}
