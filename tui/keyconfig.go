package tui

import (
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"

	"github.com/ecoute/ecoute/internal/i18n"
)

// Key overrides come from the config file as "screen.action: [keys]", e.g.
//
//	keys:
//	  calls.filter: ["/", "F"]
//	  player.toggle: ["space", "p"]
//
// The action names are the KeyMap fields, lower-cased: they are read from
// the same declarations that drive the help, so a new binding can be
// overridden without touching this file.

// KeyOverrides maps "screen.action" to the keys that replace the defaults.
type KeyOverrides map[string][]string

// keyMaps are the declared key maps by prefix, built fresh, their help
// written in tr's language.
func keyMaps(tr *i18n.Printer) map[string]any {
	return map[string]any{
		"global":      newGlobalKeys(tr),
		"login":       newLoginKeys(tr),
		"calls":       newCallsKeys(tr),
		"player":      newPlayerKeys(tr),
		"call":        newCallKeys(tr),
		"evaluation":  newEvalKeys(tr),
		"evaluations": newEvalListKeys(tr),
	}
}

// actionName turns a field name into its config name (PageDown → pagedown).
func actionName(field string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(r) }, field)
}

// KeyAction is one action that can be rebound, with its default keys.
type KeyAction struct {
	Name string // "calls.filter"
	Keys []string
	Desc string
}

// KeyActions lists every action that can be overridden, sorted by name.
func KeyActions(tr *i18n.Printer) []KeyAction {
	var out []KeyAction
	for prefix, m := range keyMaps(tr) {
		v := reflect.ValueOf(m)
		for i := range v.NumField() {
			if v.Field(i).Type() == reflect.TypeFor[Binding]() {
				b := v.Field(i).Interface().(Binding)
				out = append(out, KeyAction{Name: prefix + "." + actionName(v.Type().Field(i).Name), Keys: b.Keys(), Desc: b.Help().Desc})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func actionNames() []string {
	var out []string
	for _, a := range KeyActions(english) {
		out = append(out, a.Name)
	}
	return out
}

// Validate reports the first unknown action or empty key list.
func (o KeyOverrides) Validate(tr *i18n.Printer) error {
	actions := actionNames()
	names := make([]string, 0, len(o))
	for n := range o {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !slices.Contains(actions, n) {
			return errors.New(tr.T(keysErrUnknown, n, strings.Join(actions, ", ")))
		}
		if len(o[n]) == 0 || slices.Contains(o[n], "") {
			return errors.New(tr.T(keysErrEmpty, n))
		}
	}
	return o.conflicts(tr)
}

// conflicts refuses an override whose key another action of the same
// screen already answers to: one of the two would silently never fire.
func (o KeyOverrides) conflicts(tr *i18n.Printer) error {
	maps := keyMaps(english)
	prefixes := make([]string, 0, len(maps))
	for p := range maps {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, prefix := range prefixes {
		km := maps[prefix]
		ptr := reflect.New(reflect.TypeOf(km))
		ptr.Elem().Set(reflect.ValueOf(km))
		o.apply(prefix, ptr.Interface())
		v := ptr.Elem()
		for i := range v.NumField() {
			name := prefix + "." + actionName(v.Type().Field(i).Name)
			if _, overridden := o[name]; !overridden || v.Field(i).Type() != reflect.TypeFor[Binding]() {
				continue
			}
			mine := v.Field(i).Interface().(Binding).Keys()
			for j := range v.NumField() {
				if j == i || v.Field(j).Type() != reflect.TypeFor[Binding]() {
					continue
				}
				for _, k := range v.Field(j).Interface().(Binding).Keys() {
					if slices.Contains(mine, k) {
						return errors.New(tr.T(keysErrConflict, name, prefix+"."+actionName(v.Type().Field(j).Name), k))
					}
				}
			}
		}
	}
	return nil
}

// apply rebinds the Binding fields of the struct km points to, for the
// overrides under prefix. The help text shows the new keys.
func (o KeyOverrides) apply(prefix string, km any) {
	if len(o) == 0 {
		return
	}
	v := reflect.ValueOf(km).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Type() != reflect.TypeFor[Binding]() {
			continue
		}
		keys, ok := o[prefix+"."+actionName(v.Type().Field(i).Name)]
		if !ok {
			continue
		}
		b := f.Addr().Interface().(*Binding)
		enabled, desc := b.Enabled(), b.Help().Desc
		b.Binding = key.NewBinding(key.WithKeys(keys...), key.WithHelp(strings.Join(keys, "/"), desc))
		b.SetEnabled(enabled)
	}
}
