package rpc

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"reflect"
	"strconv"
)

// jsonGeneric returns v as a generic value (what a codec decodes into an
// any: maps, slices and scalars) with every map turned into a
// map[string]any, as JSON objects need. A value of another type, which
// may hold generic maps in its fields, goes through CBOR first, which
// encodes such maps and names struct fields as JSON does. CBOR and msgpack decode maps into
// a map[any]any when their keys are not all text; jsonGeneric writes the
// keys as encoding/json writes those of a Go map: strings as they are,
// integers, floats and booleans in their shortest text form. A key of
// another kind, or two keys with the same text, is an error. Values other
// than maps and slices are kept: encoding/json encodes them or says why
// not.
func jsonGeneric(v any) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			ks, err := jsonKey(k)
			if err != nil {
				return nil, err
			}
			if _, dup := m[ks]; dup {
				return nil, fmt.Errorf("rpc: map keys %q collide as JSON object keys", ks)
			}
			if m[ks], err = jsonGeneric(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			var err error
			if m[k], err = jsonGeneric(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			var err error
			if s[i], err = jsonGeneric(e); err != nil {
				return nil, err
			}
		}
		return s, nil
	case nil, string, bool, float64, int64, uint64, []byte:
		return v, nil
	}
	data, err := cbor.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	if err := cbor.Unmarshal(data, &g); err != nil {
		return nil, err
	}
	if _, isStruct := g.(map[any]any); !isStruct {
		if _, isList := g.([]any); !isList {
			return g, nil
		}
	}
	return jsonGeneric(g)
}

// jsonKey returns the text of a generic map key, as encoding/json writes
// the keys of Go maps.
func jsonKey(k any) (string, error) {
	rv := reflect.ValueOf(k)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, rv.Type().Bits()), nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	}
	return "", fmt.Errorf("rpc: a map key of type %T has no JSON form", k)
}
