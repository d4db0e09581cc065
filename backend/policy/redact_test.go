package policy

import (
	"math/rand/v2"
	"strings"
	"testing"

	ecoutev1 "github.com/ecoute/ecoute/api/ecoute/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// refRedact is the redaction as it was before the plans (paths compared as
// strings at every field of every message): the reference the plans must
// agree with.
func refRedact(role string, m protoreflect.Message, depth int) {
	if !m.IsValid() || depth > 32 {
		return
	}
	if prefix, ok := Subjects[m.Descriptor().FullName()]; ok {
		r := Table[role]
		refClearHidden(m, prefix, r.Fields)
		for _, f := range r.Masked {
			refMaskField(m, prefix, f)
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				refRedact(role, l.Get(i).Message(), depth+1)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				refRedact(role, mv.Message(), depth+1)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			refRedact(role, v.Message(), depth+1)
		}
		return true
	})
}

func refClearHidden(m protoreflect.Message, prefix string, visible []string) {
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
			refClearHidden(sub, path, visible)
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

func refMaskField(m protoreflect.Message, prefix, path string) {
	rest, ok := strings.CutPrefix(path, prefix+".")
	if !ok {
		return
	}
	parts := strings.Split(rest, ".")
	for i, name := range parts {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.IsList() || fd.IsMap() || !m.Has(fd) {
			return
		}
		if i < len(parts)-1 {
			if fd.Message() == nil {
				return
			}
			m = m.Mutable(fd).Message()
			continue
		}
		if fd.Kind() == protoreflect.StringKind {
			m.Set(fd, protoreflect.ValueOfString(MaskPhone(m.Get(fd).String())))
		}
	}
}

// fill sets the fields of m at random (each with probability keep),
// messages and lists included, to depth levels.
func fill(m protoreflect.Message, rnd *rand.Rand, keep float64, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if rnd.Float64() > keep || fd.IsMap() || fd.ContainingOneof() != nil && m.WhichOneof(fd.ContainingOneof()) != nil {
			continue
		}
		one := func(l protoreflect.List) protoreflect.Value {
			switch fd.Kind() {
			case protoreflect.MessageKind:
				if depth == 0 {
					return protoreflect.Value{}
				}
				var v protoreflect.Value
				if l != nil {
					v = l.NewElement()
				} else {
					v = m.NewField(fd)
				}
				fill(v.Message(), rnd, keep, depth-1)
				return v
			case protoreflect.StringKind:
				return protoreflect.ValueOfString("+33 6 12 34 56 " + string(rune('0'+rnd.IntN(10))) + "2")
			case protoreflect.BoolKind:
				return protoreflect.ValueOfBool(true)
			case protoreflect.BytesKind:
				return protoreflect.ValueOfBytes([]byte{1, 2})
			case protoreflect.EnumKind:
				return protoreflect.ValueOfEnum(1)
			case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
				return protoreflect.ValueOfInt32(int32(rnd.IntN(100) + 1))
			case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
				return protoreflect.ValueOfInt64(int64(rnd.IntN(100) + 1))
			case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
				return protoreflect.ValueOfUint32(uint32(rnd.IntN(100) + 1))
			case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
				return protoreflect.ValueOfUint64(uint64(rnd.IntN(100) + 1))
			case protoreflect.FloatKind:
				return protoreflect.ValueOfFloat32(1.5)
			case protoreflect.DoubleKind:
				return protoreflect.ValueOfFloat64(2.5)
			}
			return protoreflect.Value{}
		}
		if fd.IsList() {
			l := m.Mutable(fd).List()
			for range 2 {
				if v := one(l); v.IsValid() {
					l.Append(v)
				}
			}
			if l.Len() == 0 {
				m.Clear(fd)
			}
			continue
		}
		if v := one(nil); v.IsValid() {
			m.Set(fd, v)
		}
	}
}

// TestRedactionPlansAgreeWithTheReference: for every role (and one not in
// the table), on responses filled at random (calls, evaluations, lists of
// them, their sub-messages present or not), the plans clear and mask
// exactly what the field-by-field comparison did.
func TestRedactionPlansAgreeWithTheReference(t *testing.T) {
	roles := append(append([]string{}, Roles...), "nobody")
	msgs := []proto.Message{&ecoutev1.Call{}, &ecoutev1.ListCallsResponse{}, &ecoutev1.GetCallResponse{},
		&ecoutev1.Evaluation{}, &ecoutev1.ListEvaluationsResponse{}, &ecoutev1.WhoAmIResponse{}, &ecoutev1.AudioChunk{},
		&ecoutev1.GetWaveformResponse{}}
	rnd := rand.New(rand.NewPCG(19, 6))
	for round := range 60 {
		keep := []float64{1, 0.7, 0.4}[round%3]
		for _, proto0 := range msgs {
			orig := proto0.ProtoReflect().New()
			fill(orig, rnd, keep, 4)
			for _, role := range roles {
				got := proto.Clone(orig.Interface())
				want := proto.Clone(orig.Interface())
				RedactMessage(role, got)
				refRedact(role, want.ProtoReflect(), 0)
				if !proto.Equal(got, want) {
					t.Fatalf("%s, %s (round %d):\n got %v\nwant %v", role, orig.Descriptor().FullName(), round, got, want)
				}
			}
		}
	}
}

// TestOnlySubjectHoldersAreWalked: the types that cannot hold a call or an
// evaluation are left alone; those that can are walked.
func TestOnlySubjectHoldersAreWalked(t *testing.T) {
	for _, c := range []struct {
		m    proto.Message
		want bool
	}{
		{&ecoutev1.AudioChunk{}, false},
		{&ecoutev1.WhoAmIResponse{}, false},
		{&ecoutev1.GetWaveformResponse{}, false},
		{&ecoutev1.ListCallsResponse{}, true},
		{&ecoutev1.GetCallResponse{}, true},
		{&ecoutev1.Call{}, true},
		{&ecoutev1.ListEvaluationsResponse{}, true},
	} {
		if got := holdsSubject(c.m.ProtoReflect().Descriptor()); got != c.want {
			t.Errorf("holdsSubject(%s) = %v, want %v", c.m.ProtoReflect().Descriptor().FullName(), got, c.want)
		}
	}
}
