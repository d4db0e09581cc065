package policy

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// clearHidden walks m and clears every populated field whose path (prefix +
// "." + proto field name) is neither visible nor the parent of a visible
// path. A sub-message left empty is cleared too, so the client does not get
// an empty shell it could mistake for "no data".
func clearHidden(m protoreflect.Message, prefix string, visible []string) {
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	for _, fd := range fields {
		path := prefix + "." + string(fd.Name())
		full, partial := false, false
		for _, v := range visible {
			if v == path {
				full = true
				break
			}
			if strings.HasPrefix(v, path+".") {
				partial = true
			}
		}
		switch {
		case full:
		case partial && fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			sub := m.Mutable(fd).Message()
			clearHidden(sub, path, visible)
			empty := true
			sub.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { empty = false; return false })
			if empty {
				m.Clear(fd)
			}
		default:
			m.Clear(fd)
		}
	}
}
