package clientconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
)

// This file edits a JSON or JSONC (comments, trailing commas) document in place with hujson's syntax tree: what
// is not changed is written back byte for byte, comments included, and what is added is laid out like its
// neighbours.

// parseObject parses b as a document whose top level is an object. An empty file is an empty object. Errors name
// the file and the line.
func parseObject(file string, b []byte) (hujson.Value, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}\n")
	}
	v, err := hujson.Parse(b)
	if err != nil {
		return v, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "hujson: "))
	}
	if _, ok := v.Value.(*hujson.Object); !ok {
		return v, fmt.Errorf("%s: line %d: the file holds %s, not a JSON object", file, lineAt(b, v.StartOffset), kindName(v.Value.Kind()))
	}
	return v, nil
}

// childObject is the object under key in obj, or nil when there is none; an error (naming file and line) when
// key holds something else.
func childObject(file string, src []byte, obj *hujson.Object, key string) (*hujson.Object, error) {
	i := memberIndex(obj, key)
	if i < 0 {
		return nil, nil
	}
	v := obj.Members[i].Value
	child, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, fmt.Errorf("%s: line %d: %q holds %s, not an object", file, lineAt(src, v.StartOffset), key, kindName(v.Value.Kind()))
	}
	return child, nil
}

// childArray is the array under key in obj, or nil when there is none; an error when key holds something else.
func childArray(file string, src []byte, obj *hujson.Object, key string) (*hujson.Array, error) {
	i := memberIndex(obj, key)
	if i < 0 {
		return nil, nil
	}
	v := obj.Members[i].Value
	child, ok := v.Value.(*hujson.Array)
	if !ok {
		return nil, fmt.Errorf("%s: line %d: %q holds %s, not an array", file, lineAt(src, v.StartOffset), key, kindName(v.Value.Kind()))
	}
	return child, nil
}

// memberIndex is the index of the member named key, -1 when there is none.
func memberIndex(obj *hujson.Object, key string) int {
	for i := range obj.Members {
		if lit, ok := obj.Members[i].Name.Value.(hujson.Literal); ok && lit.String() == key {
			return i
		}
	}
	return -1
}

// layout is how the members (or elements) of a composite are laid out: each on a line of its own at indent, or
// all on one line.
type layout struct {
	multiline bool
	indent    string // of the members
	closing   string // of the closing brace or bracket
	unit      string // one level of indentation in this file
}

// inner is the layout of a composite nested one level below l's members.
func (l layout) inner() layout {
	return layout{multiline: l.multiline, indent: l.indent + l.unit, closing: l.indent, unit: l.unit}
}

// layoutOf is the layout of a composite whose first member's leading extra is first (nil when it has none),
// given the layout its parent would give it.
func layoutOf(first hujson.Extra, hasFirst bool, want layout) layout {
	if !hasFirst {
		return want
	}
	indent, ok := lineIndent(first)
	if !ok {
		return layout{multiline: false, unit: want.unit}
	}
	return layout{multiline: true, indent: indent, closing: want.closing, unit: want.unit}
}

// rootLayout is the layout of the top-level object, with the file's unit of indentation (two spaces when it
// cannot tell).
func rootLayout(obj *hujson.Object) layout {
	l := layout{multiline: true, indent: "  ", unit: "  "}
	if len(obj.Members) > 0 {
		if indent, ok := lineIndent(obj.Members[0].Name.BeforeExtra); ok && indent != "" {
			l.indent, l.unit = indent, indent
		} else if !ok {
			l.multiline = false
		}
	}
	return l
}

// objectLayout is the layout of obj, nested under a member laid out by parent.
func objectLayout(obj *hujson.Object, parent layout) layout {
	var first hujson.Extra
	if len(obj.Members) > 0 {
		first = obj.Members[0].Name.BeforeExtra
	}
	return layoutOf(first, len(obj.Members) > 0, parent.inner())
}

// arrayLayout is the layout of arr, nested under a member laid out by parent.
func arrayLayout(arr *hujson.Array, parent layout) layout {
	var first hujson.Extra
	if len(arr.Elements) > 0 {
		first = arr.Elements[0].BeforeExtra
	}
	return layoutOf(first, len(arr.Elements) > 0, parent.inner())
}

// lineIndent is the blank space that starts the last line of extra: the indentation of what follows it, when
// extra holds a newline.
func lineIndent(extra hujson.Extra) (string, bool) {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 {
		return "", false
	}
	rest := extra[i+1:]
	n := len(rest) - len(bytes.TrimLeft(rest, " \t"))
	return string(rest[:n]), true
}

// render is v as a hujson value laid out at l (standard JSON: no comments, HTML characters not escaped).
func render(v any, l layout) (hujson.Value, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if l.multiline {
		enc.SetIndent(l.indent, l.unit)
	}
	if err := enc.Encode(v); err != nil {
		return hujson.Value{}, err
	}
	b := bytes.TrimSpace(buf.Bytes())
	if !l.multiline {
		b = spaced(b)
	}
	out, err := hujson.Parse(b)
	if err != nil {
		return hujson.Value{}, err
	}
	return out, nil
}

// spaced is compact JSON with a space after each colon and comma, as people write JSON on one line.
func spaced(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	inString, escaped := false, false
	for _, c := range b {
		out = append(out, c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ':'):
			out = append(out, ' ')
		}
	}
	return out
}

// sameJSON reports whether the hujson value have holds the same JSON as want (comments, layout and key order
// aside).
func sameJSON(have hujson.Value, want any) bool {
	c := have.Clone()
	c.Standardize()
	var h, w any
	if json.Unmarshal(c.Pack(), &h) != nil {
		return false
	}
	b, err := json.Marshal(want)
	if err != nil || json.Unmarshal(b, &w) != nil {
		return false
	}
	return reflect.DeepEqual(h, w)
}

// setMember sets the member key of obj (laid out as l) to v. It reports whether anything changed: a member that
// already holds the same JSON is left as it is, comments and all.
func setMember(obj *hujson.Object, l layout, key string, v any) (bool, error) {
	if i := memberIndex(obj, key); i >= 0 {
		m := &obj.Members[i]
		if sameJSON(m.Value, v) {
			return false, nil
		}
		indent, ok := lineIndent(m.Name.BeforeExtra)
		at := layout{multiline: ok && l.multiline, indent: indent, unit: l.unit}
		nv, err := render(v, at)
		if err != nil {
			return false, err
		}
		m.Value.Value = nv.Value
		return true, nil
	}
	nv, err := render(v, layout{multiline: l.multiline, indent: l.indent, unit: l.unit})
	if err != nil {
		return false, err
	}
	name := hujson.Value{BeforeExtra: leadingExtra(&obj.AfterExtra, l, len(obj.Members) == 0), Value: hujson.String(key)}
	value := hujson.Value{BeforeExtra: hujson.Extra(" "), Value: nv.Value}
	trailingComma := len(obj.Members) > 0 && obj.Members[len(obj.Members)-1].Value.AfterExtra != nil
	if trailingComma {
		value.AfterExtra = hujson.Extra{}
	}
	obj.Members = append(obj.Members, hujson.ObjectMember{Name: name, Value: value})
	closeComposite(&obj.AfterExtra, l, len(obj.Members) == 1)
	return true, nil
}

// appendElement appends v to arr (laid out as l).
func appendElement(arr *hujson.Array, l layout, v any) error {
	nv, err := render(v, layout{multiline: l.multiline, indent: l.indent, unit: l.unit})
	if err != nil {
		return err
	}
	nv.BeforeExtra = leadingExtra(&arr.AfterExtra, l, len(arr.Elements) == 0)
	if len(arr.Elements) > 0 && arr.Elements[len(arr.Elements)-1].AfterExtra != nil {
		nv.AfterExtra = hujson.Extra{}
	}
	arr.Elements = append(arr.Elements, nv)
	closeComposite(&arr.AfterExtra, l, len(arr.Elements) == 1)
	return nil
}

// leadingExtra is the space before a member or element appended to a composite whose closing extra is closing.
// A line comment that followed the last member on its line stays on that line (it is moved from closing, and
// what is appended starts on the next line).
func leadingExtra(closing *hujson.Extra, l layout, first bool) hujson.Extra {
	var same []byte
	if i := bytes.IndexByte(*closing, '\n'); i > 0 && bytes.HasPrefix(bytes.TrimLeft((*closing)[:i], " \t"), []byte("//")) {
		same, *closing = append([]byte(nil), (*closing)[:i]...), (*closing)[i:]
	}
	switch {
	case l.multiline || len(same) > 0:
		return hujson.Extra(string(same) + "\n" + l.indent)
	case first:
		return nil
	}
	return hujson.Extra(" ")
}

// closeComposite puts the closing brace or bracket of a composite that was empty on a line of its own.
func closeComposite(closing *hujson.Extra, l layout, wasEmpty bool) {
	if wasEmpty && l.multiline && !bytes.Contains(*closing, []byte("\n")) {
		*closing = hujson.Extra("\n" + l.closing)
	}
}

// removeAt removes the value at the JSON pointer ptr from root, with the comments that belong to it (hujson's
// rules), and keeps the closing brace or bracket where it was; a composite left empty is written {} or [] (it
// stays: it may be the user's, as Cursor's {"mcpServers": {}}). ptr names a member or element of a composite.
func removeAt(root *hujson.Value, ptr string) error {
	parentPtr := ptr[:strings.LastIndexByte(ptr, '/')]
	parent := root.Find(parentPtr)
	if parent == nil {
		return fmt.Errorf("no %s", ptr)
	}
	var (
		closing *hujson.Extra
		last    func() *hujson.Value // the last member's value or last element, nil when there is none
	)
	switch c := parent.Value.(type) {
	case *hujson.Object:
		closing = &c.AfterExtra
		last = func() *hujson.Value {
			if len(c.Members) == 0 {
				return nil
			}
			return &c.Members[len(c.Members)-1].Value
		}
	case *hujson.Array:
		closing = &c.AfterExtra
		last = func() *hujson.Value {
			if len(c.Elements) == 0 {
				return nil
			}
			return &c.Elements[len(c.Elements)-1]
		}
	}
	trailingComma := last() != nil && last().AfterExtra != nil
	indent, hadLine := lineIndent(*closing)
	savedClosing := append(hujson.Extra(nil), *closing...)
	// The blank before the first member, which the one after it inherits when the first goes (`{"a": 1, "b": 2}`
	// loses "a" as `{"b": 2}`, not `{ "b": 2}`).
	var firstExtra *hujson.Extra
	var firstBlank hujson.Extra
	switch c := parent.Value.(type) {
	case *hujson.Object:
		if len(c.Members) > 1 && memberIndex(c, unpointer(ptr[len(parentPtr)+1:])) == 0 {
			firstExtra, firstBlank = &c.Members[1].Name.BeforeExtra, c.Members[0].Name.BeforeExtra
		}
	case *hujson.Array:
		if len(c.Elements) > 1 && ptr[len(parentPtr)+1:] == "0" {
			firstExtra, firstBlank = &c.Elements[1].BeforeExtra, c.Elements[0].BeforeExtra
		}
	}
	if firstExtra != nil && (!firstBlank.IsStandard() || bytes.Contains(*firstExtra, []byte("\n"))) {
		firstExtra = nil // comments, or members on lines of their own: hujson's rules do well
	}
	patch, err := json.Marshal([]map[string]string{{"op": "remove", "path": ptr}})
	if err != nil {
		return err
	}
	if err := root.Patch(patch); err != nil {
		return err
	}
	if firstExtra != nil {
		switch c := parent.Value.(type) {
		case *hujson.Object:
			if c.Members[0].Name.BeforeExtra.IsStandard() {
				c.Members[0].Name.BeforeExtra = append(hujson.Extra(nil), firstBlank...)
			}
		case *hujson.Array:
			if c.Elements[0].BeforeExtra.IsStandard() {
				c.Elements[0].BeforeExtra = append(hujson.Extra(nil), firstBlank...)
			}
		}
	}
	if l := last(); l != nil && trailingComma && l.AfterExtra == nil {
		l.AfterExtra = hujson.Extra{}
	}
	if savedClosing.IsStandard() && closing.IsStandard() {
		*closing = savedClosing // blank only: hujson may have trimmed it, and nothing of it went with the value
	} else if i := bytes.LastIndexByte(*closing, '\n'); hadLine && i >= 0 && len(bytes.Trim((*closing)[i+1:], " \t")) == 0 {
		*closing = append((*closing)[:i+1:i+1], indent...)
	}
	if last() == nil && closing.IsStandard() {
		*closing = nil
	}
	return nil
}

// pointer is the JSON pointer (RFC 6901) of the path of names.
func pointer(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(n))
	}
	return b.String()
}

// unpointer is the name a JSON pointer's segment stands for.
func unpointer(segment string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(segment)
}

// lineAt is the line number of offset in b.
func lineAt(b []byte, offset int) int {
	if offset > len(b) {
		offset = len(b)
	}
	return 1 + bytes.Count(b[:offset], []byte("\n"))
}

// kindName names a JSON kind for an error message.
func kindName(k hujson.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 'n':
		return "null"
	}
	return "a boolean"
}

// itoa is strconv.Itoa, for JSON pointers' array indices.
func itoa(i int) string { return strconv.Itoa(i) }
