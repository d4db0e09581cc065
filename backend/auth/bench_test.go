package auth

import "testing"

// BenchmarkHashPassword is the cost of one login or change with the
// production argon2id parameters.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("une phrase de passe", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckPassword is the policy check (length, login, name,
// strength estimate) of one new password.
func BenchmarkCheckPassword(b *testing.B) {
	p := Person{Login: "cdubois", Names: []string{"Claire", "Dubois"}}
	for b.Loop() {
		if err := DefaultRules.CheckPassword(p, "glace verte au citron de Menton"); err != nil {
			b.Fatal(err)
		}
	}
}
