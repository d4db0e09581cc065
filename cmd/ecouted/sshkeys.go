package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ecoute/ecoute/backend/core"
)

// cmdUserKey runs `ecouted user key add|list|remove`: the SSH public keys
// that, with the password, open the console over SSH.
func cmdUserKey(data string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(`user key: use "ecouted user key add|list|remove"`)
	}
	switch args[0] {
	case "add":
		return cmdUserKeyAdd(data, args[1:], stdin, stdout, stderr)
	case "list":
		return cmdUserKeyList(data, args[1:], stdout, stderr)
	case "remove":
		return cmdUserKeyRemove(data, args[1:], stderr)
	}
	return fmt.Errorf("unknown user key command %q: use \"ecouted user key add|list|remove\"", args[0])
}

func cmdUserKeyAdd(data string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("user key add", "user key add LOGIN [--key FILE.pub]\n\n"+
		"Registers an SSH public key to an account, for remote review over SSH (ecouted serve\n"+
		"--ssh-listen): the key, then the account's password, open the console. The key is one\n"+
		"line of an authorized_keys file (such as ~/.ssh/id_ed25519.pub), read from --key or\n"+
		"from stdin. An account may have several keys; a key belongs to one account. DSA keys\n"+
		"and RSA keys under 2048 bits are refused.", stderr)
	file := fs.String("key", "", "file holding the public key (default: stdin)")
	login, err := parseLogin(fs, args, "user key add")
	if err != nil {
		return err
	}
	var line []byte
	if *file != "" {
		line, err = os.ReadFile(*file)
	} else {
		line, err = io.ReadAll(io.LimitReader(stdin, core.MaxSSHKeyLine+1))
	}
	if err != nil {
		return fmt.Errorf("user key add: %w", err)
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Core().UserByLogin(ctx, login)
	if err != nil {
		return fmt.Errorf("user key add: %w", err)
	}
	k, err := app.Core().AddSSHKey(ctx, core.Local(), u.ID, strings.TrimSpace(string(line)))
	if err != nil {
		return fmt.Errorf("user key add: %w", err)
	}
	fmt.Fprintf(stdout, "%s %s %s\n", k.Fingerprint, k.Type, k.Comment)
	fmt.Fprintf(stderr, "key registered to %s: connect with  ssh -p PORT %s@HOST\n", login, login)
	return nil
}

func cmdUserKeyList(data string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("user key list", "user key list [LOGIN]\n\nLists the SSH keys, of one account or of all.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return errors.New("user key list: give at most one LOGIN")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	id := ""
	if fs.NArg() == 1 {
		u, err := app.Core().UserByLogin(ctx, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("user key list: %w", err)
		}
		id = u.ID
	}
	ks, err := app.Core().ListSSHKeys(ctx, id)
	if err != nil {
		return fmt.Errorf("user key list: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tFINGERPRINT\tTYPE\tCOMMENT\tADDED\tLAST USED")
	for _, k := range ks {
		used := "never"
		if !k.LastUsedAt.IsZero() {
			used = k.LastUsedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Login, k.Fingerprint, k.Type, orDash(k.Comment),
			k.AddedAt.Local().Format("2006-01-02 15:04"), used)
	}
	return tw.Flush()
}

func cmdUserKeyRemove(data string, args []string, stderr io.Writer) error {
	fs := newFlags("user key remove", "user key remove LOGIN FINGERPRINT\n\n"+
		"Unregisters an SSH key of an account (FINGERPRINT as \"user key list\" prints it). Sessions\n"+
		"it opened go on until they end; it opens no new one.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("user key remove: give LOGIN and FINGERPRINT")
	}
	ctx := context.Background()
	app, err := open(ctx, data, nil, nil)
	if err != nil {
		return err
	}
	defer app.Close()
	u, err := app.Core().UserByLogin(ctx, fs.Arg(0))
	if err == nil {
		_, err = app.Core().RemoveSSHKey(ctx, core.Local(), u.ID, fs.Arg(1))
	}
	if err != nil {
		return fmt.Errorf("user key remove: %w", err)
	}
	fmt.Fprintf(stderr, "key %s of %s removed\n", fs.Arg(1), fs.Arg(0))
	return nil
}

// parseLogin parses flags around one LOGIN argument (before or after them).
func parseLogin(fs *flag.FlagSet, args []string, cmd string) (string, error) {
	var login string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		login, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if login == "" && fs.NArg() == 1 {
		login = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return "", fmt.Errorf("%s: unexpected argument %q", cmd, fs.Arg(0))
	}
	if login == "" {
		return "", fmt.Errorf("%s: give the account's LOGIN", cmd)
	}
	return login, nil
}
