package influx

import "testing"

func TestFluxLiterals(t *testing.T) {
	tests := map[string]struct{ got, want string }{
		"quotes, backslashes and interpolation are escaped": {fluxString(`a"b\c${d}`), `"a\"b\\c\${d}"`},
		"a regex matches the set exactly":                   {fluxRegex([]string{"b.c", "a/x"}), `/^(?:a\/x|b\.c)$/`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}
