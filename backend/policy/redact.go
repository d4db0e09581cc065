package policy

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Redaction walked each call's fields by reflection and compared their
// paths, built as strings, with the role's visible paths: 10% of the
// backend's CPU under 50 consoles listing pages of 200 calls (twice per
// call: the service and the guard both redact). The comparison is now made
// once per role and message type into a plan (keep, clear or descend, per
// field number; the masked fields resolved), and a message whose type
// cannot hold a subject (Subjects) anywhere is not walked at all.

type fieldAction uint8

const (
	clearField fieldAction = iota // the zero value: what a plan does not name goes
	keepField
	descendField // a singular message partly visible: apply the sub-plan
)

// plan is the redaction of one message type for one role.
type plan struct {
	actions map[protoreflect.FieldNumber]fieldAction
	subs    map[protoreflect.FieldNumber]*plan
	// masks are the masked fields, each as its chain of fields from the
	// subject.
	masks [][]protoreflect.FieldDescriptor
}

type planKey struct {
	role string
	name protoreflect.FullName
}

var plans sync.Map // planKey → *plan

// subjectPlan is the plan of subject message type d (path prefix) for
// role.
func subjectPlan(role string, d protoreflect.MessageDescriptor, prefix string) *plan {
	k := planKey{role, d.FullName()}
	if p, ok := plans.Load(k); ok {
		return p.(*plan)
	}
	r := Table[role]
	p := buildPlan(d, prefix, r.Fields)
	for _, path := range r.Masked {
		if chain := resolve(d, prefix, path); chain != nil {
			p.masks = append(p.masks, chain)
		}
	}
	plans.Store(k, p)
	return p
}

// buildPlan decides each field of d (whose path is prefix): kept when its
// path is visible, descended into when it is a singular message with a
// visible path below it, cleared otherwise.
func buildPlan(d protoreflect.MessageDescriptor, prefix string, visible []string) *plan {
	p := &plan{actions: map[protoreflect.FieldNumber]fieldAction{}, subs: map[protoreflect.FieldNumber]*plan{}}
	fields := d.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
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
			p.actions[fd.Number()] = keepField
		case partial && fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			p.actions[fd.Number()] = descendField
			p.subs[fd.Number()] = buildPlan(fd.Message(), path, visible)
		}
	}
	return p
}

// resolve finds the fields of path (below prefix, d's own path) from d; nil
// when path is not there or not a singular string at the end.
func resolve(d protoreflect.MessageDescriptor, prefix, path string) []protoreflect.FieldDescriptor {
	rest, ok := strings.CutPrefix(path, prefix+".")
	if !ok {
		return nil
	}
	var chain []protoreflect.FieldDescriptor
	parts := strings.Split(rest, ".")
	for i, name := range parts {
		fd := d.Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.IsList() || fd.IsMap() {
			return nil
		}
		chain = append(chain, fd)
		if i < len(parts)-1 {
			if fd.Message() == nil {
				return nil
			}
			d = fd.Message()
		} else if fd.Kind() != protoreflect.StringKind {
			return nil
		}
	}
	return chain
}

// apply clears what the plan does not keep and masks the masked fields.
// A sub-message left empty is cleared too, so the client does not get an
// empty shell it could mistake for "no data".
func (p *plan) apply(m protoreflect.Message) {
	var clear, descend []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch p.actions[fd.Number()] {
		case clearField:
			clear = append(clear, fd)
		case descendField:
			descend = append(descend, fd)
		}
		return true
	})
	for _, fd := range clear {
		m.Clear(fd)
	}
	for _, fd := range descend {
		sub := m.Mutable(fd).Message()
		p.subs[fd.Number()].apply(sub)
		empty := true
		sub.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool { empty = false; return false })
		if empty {
			m.Clear(fd)
		}
	}
	for _, chain := range p.masks {
		mask(m, chain)
	}
}

// mask masks the string at the end of chain with MaskPhone, if it is set.
func mask(m protoreflect.Message, chain []protoreflect.FieldDescriptor) {
	for i, fd := range chain {
		if !m.Has(fd) {
			return
		}
		if i < len(chain)-1 {
			m = m.Mutable(fd).Message()
			continue
		}
		m.Set(fd, protoreflect.ValueOfString(MaskPhone(m.Get(fd).String())))
	}
}

var holders sync.Map // protoreflect.FullName → bool

// holdsSubject tells whether a message of type d can contain a subject,
// at any depth.
func holdsSubject(d protoreflect.MessageDescriptor) bool {
	if v, ok := holders.Load(d.FullName()); ok {
		return v.(bool)
	}
	v := reaches(d, map[protoreflect.FullName]bool{})
	holders.Store(d.FullName(), v)
	return v
}

func reaches(d protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if _, ok := Subjects[d.FullName()]; ok {
		return true
	}
	if seen[d.FullName()] {
		return false
	}
	seen[d.FullName()] = true
	fields := d.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if fd.Message() != nil && reaches(fd.Message(), seen) {
			return true
		}
	}
	return false
}

func redact(role string, m protoreflect.Message, depth int) {
	if !m.IsValid() || depth > 32 || !holdsSubject(m.Descriptor()) {
		return
	}
	if prefix, ok := Subjects[m.Descriptor().FullName()]; ok {
		subjectPlan(role, m.Descriptor(), prefix).apply(m)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				redact(role, l.Get(i).Message(), depth+1)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				redact(role, mv.Message(), depth+1)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			redact(role, v.Message(), depth+1)
		}
		return true
	})
}
