package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"64", 64}, {"64B", 64}, {"1KiB", 1024}, {"4MiB", 4 << 20}, {"1GiB", 1 << 30},
		{"1.5KiB", 1536}, {"2kB", 2000}, {"2KB", 2000}, {"3MB", 3e6}, {"1GB", 1e9}, {".5KiB", 512},
		{"1 KiB", 1024}, {"1.000000000MiB", 1 << 20},
	} {
		got, err := parseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "KiB", "-1", "1XB", "1kib", "0.3B", "1.1KiB", "1.5.5KiB", "1e3", "9999999999GiB",
		"1.0000000001MiB", "0x10", "+5", "1 2"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
	for _, n := range []int64{0, 1, 100, 1024, 1536, 4 << 20, 3 << 30} {
		s := byteSize(n)
		if got, err := parseSize(s.String()); err != nil || got != n {
			t.Errorf("parseSize(%q) = %d, %v; want %d back", s.String(), got, err, n)
		}
	}
}
